/**
 * Requests per minute per user (`tid`+`oid`), not per IP: one user behind a NAT or a gateway
 * must not exhaust the limit of a whole office. Counting is `rate-limiter-flexible`'s.
 */
import type { Redis } from 'ioredis';
import { digest } from './proxy/sealedBox';
import { RateLimiterAbstract, RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';

export interface RateDecision {
  readonly allowed: boolean;
  /** Whole seconds to wait, 1–60, when not allowed. */
  readonly retryAfterSeconds: number;
}

export class UserRateLimiter {
  private readonly limiter: RateLimiterAbstract | undefined;

  /** With `redis`, the fleet counts together; while Redis is unreachable each replica counts alone. */
  constructor(requestsPerMinute: number, redis?: Redis) {
    if (requestsPerMinute <= 0) {
      return;
    }
    const alone = new RateLimiterMemory({ points: requestsPerMinute, duration: 60 });
    this.limiter = redis
      ? new RateLimiterRedis({ storeClient: redis, keyPrefix: 'rate', points: requestsPerMinute, duration: 60, insuranceLimiter: alone })
      : alone;
  }

  async consume(userKey: string): Promise<RateDecision> {
    if (!this.limiter) {
      return { allowed: true, retryAfterSeconds: 0 };
    }
    try {
      // Counted under a digest: the shared store holds no user identifiers either.
      await this.limiter.consume(digest(userKey));
      return { allowed: true, retryAfterSeconds: 0 };
    } catch (rejection) {
      if (rejection instanceof RateLimiterRes) {
        return { allowed: false, retryAfterSeconds: Math.min(60, Math.max(1, Math.ceil(rejection.msBeforeNext / 1000))) };
      }
      throw rejection;
    }
  }
}
