/**
 * The fleet's one way to open Redis. Every option here exists so that no request ever waits on
 * Redis without a bound: no offline queue (a command sent while disconnected fails at once
 * instead of piling up), a timeout per command and per connection attempt, one retry at most per
 * request, and reconnection forever in the background with a short, capped backoff so a Redis
 * restart heals by itself within seconds.
 */
import { Redis } from 'ioredis';

export type RedisEvent = 'ready' | 'error' | 'end' | 'reconnecting';

/** A reply slower than this is treated as Redis being unavailable. */
export const COMMAND_TIMEOUT_MS = 1_000;
/** How long one connection attempt may take before it is abandoned and retried. */
const CONNECT_TIMEOUT_MS = 2_000;
/** The longest pause between reconnection attempts; also what callers may advertise as Retry-After. */
export const RECONNECT_CAP_MS = 2_000;
const RECONNECT_FIRST_MS = 50;

export function connectRedis(url: string, prefix: string, onEvent?: (event: RedisEvent, detail?: string) => void): Redis {
  const parsed = parseRedisUrl(url);
  const redis = new Redis(parsed.href, {
    keyPrefix: prefix,
    enableOfflineQueue: false,
    commandTimeout: COMMAND_TIMEOUT_MS,
    connectTimeout: CONNECT_TIMEOUT_MS,
    maxRetriesPerRequest: 1,
    retryStrategy: reconnectDelay,
    lazyConnect: false,
    // ioredis decides TLS from a case-sensitive prefix; say it explicitly so `REDISS://` is TLS too.
    ...(parsed.protocol === 'rediss:' ? { tls: {} } : {}),
  });
  reportEvents(redis, onEvent);
  return redis;
}

export function isRedisReady(redis: Redis): boolean {
  return redis.status === 'ready';
}

/** Reconnects forever: exponential from 50 ms, capped at 2 s, with jitter so replicas do not reconnect in lockstep. */
export function reconnectDelay(attempt: number): number {
  const exponential = RECONNECT_FIRST_MS * 2 ** Math.min(Math.max(attempt - 1, 0), 10);
  const jitter = Math.random() * RECONNECT_FIRST_MS;
  return Math.min(RECONNECT_CAP_MS, Math.round(exponential + jitter));
}

/** Only redis:// and rediss:// (credentials in the URL). The URL itself is never echoed: it may hold a password. */
function parseRedisUrl(url: string): URL {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new Error('ENTRA_MCP_REDIS_URL is not a valid URL; expected redis://[:password@]host[:port][/db] or rediss://…');
  }
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') {
    throw new Error(`ENTRA_MCP_REDIS_URL must start with redis:// or rediss:// (got ${parsed.protocol}//)`);
  }
  if (!parsed.hostname) {
    throw new Error('ENTRA_MCP_REDIS_URL names no host; expected redis://[:password@]host[:port][/db]');
  }
  return parsed;
}

/**
 * Always listens for 'error': an ioredis client without an 'error' listener crashes the process
 * on the first connection failure. Failures are reported, never thrown; reconnection is ioredis's.
 */
function reportEvents(redis: Redis, onEvent?: (event: RedisEvent, detail?: string) => void): void {
  redis.on('error', (error: Error) => onEvent?.('error', error.message));
  redis.on('ready', () => onEvent?.('ready'));
  redis.on('end', () => onEvent?.('end'));
  redis.on('reconnecting', (delayMs: number) => onEvent?.('reconnecting', `in ${delayMs} ms`));
}
