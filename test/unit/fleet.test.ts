/**
 * The remote server as a fleet, with real parts: Debian's redis-server and nginx in front of
 * three replicas of dist/remote.js, the fake Entra ID and the fake Graph. Many users at once
 * across the replicas: no errors, everyone sees only their own data, and one On-Behalf-Of
 * exchange per user and scope set for the whole fleet; then faults: a replica killed mid-load,
 * Redis restarted mid-load, Redis gone for many reconnection attempts, a Graph 429 storm, a
 * replica drained by SIGTERM, Entra ID down.
 */
import * as assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { FakeEntra, FakeEntraUser } from '../helpers/fakeEntra';
import { FakeGraph } from '../helpers/fakeGraph';
import { COMMAND_TIMEOUT_MS, RECONNECT_CAP_MS } from '../../src/remote/fleet/redisConnection';
import { FLEET_PREFIX, Fleet, Replica, fleetAvailable, startFleet } from '../helpers/fleetHarness';
import { SERVER_CLIENT_ID, TENANT_ID, rpc } from '../helpers/remoteHarness';
import { waitFor } from '../helpers/waitFor';


function user(index: number, series = 'a'): FakeEntraUser {
  const hex = index.toString(16).padStart(8, '0');
  return { oid: `${hex}-0000-4000-8000-${series.padEnd(12, '0')}`, tid: TENANT_ID, upn: `user${index}.${series}@contoso.com`, name: `User ${index}` };
}

/** Runs `work` over `items` with at most `limit` at a time. */
async function pool<T, R>(items: readonly T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(Array.from({ length: limit }, async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await work(items[index]);
    }
  }));
  return results;
}

describe('remote server: a fleet behind a load balancer, sharing Redis', function () {
  this.timeout(180_000);
  let fleet: Fleet;
  let entra: FakeEntra;
  let graph: FakeGraph;
  let redis: Fleet['redis'];
  let replicas: Replica[];
  let url = '';
  const tokens = new Map<string, string>();

  const tokenFor = (who: FakeEntraUser) => {
    let token = tokens.get(who.oid);
    if (!token) {
      token = entra.issueAccessToken({ user: who, audience: SERVER_CLIENT_ID, scp: 'access_as_user', roles: ['Tools.Read'] });
      tokens.set(who.oid, token);
    }
    return token;
  };

  /** One tools/call through the load balancer; a failed attempt (a replica gone) is retried once, as clients do. */
  async function profileOf(who: FakeEntraUser, retries = 1): Promise<string> {
    try {
      const response = await fetch(url, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Accept: 'application/json, text/event-stream', Authorization: `Bearer ${tokenFor(who)}` },
        body: JSON.stringify(rpc('tools/call', { name: 'get_my_profile', arguments: {} })),
      });
      const body = await response.json() as { result?: { isError?: boolean; structuredContent?: { userPrincipalName?: string }; content?: Array<{ text: string }> } };
      if (response.status !== 200 || body.result?.isError) {
        throw new Error(`${response.status} ${body.result?.content?.[0]?.text ?? JSON.stringify(body).slice(0, 200)}`);
      }
      return body.result?.structuredContent?.userPrincipalName ?? '';
    } catch (error) {
      if (retries > 0) {
        return profileOf(who, retries - 1);
      }
      throw error;
    }
  }

  const exchangesFor = (who: readonly FakeEntraUser[]) => {
    const oids = new Set(who.map(entry => entry.oid));
    return entra.oboExchanges.filter(exchange => oids.has(exchange.oid));
  };

  before(async function () {
    if (!fleetAvailable()) {
      this.skip();
    }
    fleet = await startFleet();
    ({ entra, graph, redis, replicas, url } = fleet);
  });

  after(async () => fleet?.stop());

  it('serves 1,000 users at once across the replicas: no errors, each their own profile, one exchange per user for the whole fleet', async () => {
    const users = Array.from({ length: 1_000 }, (_, index) => user(index));
    const seen = await pool(users, 64, who => profileOf(who, 0));
    assert.deepEqual(seen, users.map(who => who.upn));
    const exchanges = exchangesFor(users);
    assert.equal(exchanges.length, users.length, 'exactly one On-Behalf-Of exchange per user and scope set');
    const repliesPerReplica = replicas.map(replica => (replica.output().match(/"event":"mcp_request"/g) ?? []).length);
    assert.ok(repliesPerReplica.every(count => count > 100), `the load balancer spread the load: ${repliesPerReplica.join(', ')}`);
  });

  it('shares one exchange among concurrent first calls of one user landing on different replicas', async () => {
    const users = Array.from({ length: 30 }, (_, index) => user(index, 'b'));
    const seen = await Promise.all(users.flatMap(who => [profileOf(who, 0), profileOf(who, 0), profileOf(who, 0)]));
    assert.ok(seen.every((upn, index) => upn === users[Math.floor(index / 3)].upn));
    assert.equal(exchangesFor(users).length, users.length);
  });

  it('audits the address the load balancer saw, not one a client claims in X-Forwarded-For', async () => {
    const requestId = `spoof-${Date.now()}`;
    const who = user(7, 'j');
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json, text/event-stream', Authorization: `Bearer ${tokenFor(who)}`, 'X-Forwarded-For': '203.0.113.66', 'X-Request-Id': requestId },
      body: JSON.stringify(rpc('tools/list')),
    });
    assert.equal(response.status, 200);
    await waitFor(() => replicas.some(replica => replica.output().includes(requestId)), 'the audit line', 5_000);
    const line = replicas.flatMap(replica => replica.output().split('\n')).find(entry => entry.includes(requestId) && entry.includes('mcp_request')) as string;
    assert.equal((JSON.parse(line) as { ip: string }).ip, '127.0.0.1');
  });

  it('keeps every Redis key under the prefix, with a time to live, and no token in the clear', async () => {
    const client = new Redis(redis.url, { lazyConnect: true });
    await client.connect();
    try {
      const keys = await client.keys('*');
      assert.ok(keys.length > 0);
      assert.ok(keys.every(key => key.startsWith(FLEET_PREFIX)), keys.find(key => !key.startsWith(FLEET_PREFIX)));
      for (const key of keys.slice(0, 200)) {
        assert.ok(await client.pttl(key) > 0, `${key} has a TTL`);
        const type = await client.type(key);
        const value = type === 'string' ? await client.get(key) : JSON.stringify(type === 'hash' ? await client.hgetall(key) : await client.zrange(key, '0', '-1'));
        assert.ok(!/eyJ[\w-]+\.[\w-]+\./.test(value ?? ''), `${key} holds no JWT`);
      }
    } finally {
      client.disconnect();
    }
  });

  it('loses only what was in flight when a replica dies mid-load, and clients\' retries succeed', async () => {
    const users = Array.from({ length: 300 }, (_, index) => user(index, 'c'));
    const load = pool(users, 32, who => profileOf(who));
    await waitFor(() => exchangesFor(users).length > 50, 'the load under way', 20_000);
    replicas[1].child.kill('SIGKILL');
    const seen = await load;
    assert.deepEqual(seen, users.map(who => who.upn));
  });

  it('keeps serving while Redis restarts mid-load (memory fallbacks), and says so in /readyz', async () => {
    const alive = replicas.filter(replica => replica.child.exitCode === null && replica.child.signalCode === null);
    const users = Array.from({ length: 200 }, (_, index) => user(index, 'd'));
    const load = pool(users, 16, who => profileOf(who));
    await waitFor(() => exchangesFor(users).length > 20, 'the load under way', 20_000);
    await redis.kill();
    await waitFor(async () => {
      const body = await (await fetch(`http://127.0.0.1:${alive[0].port}/readyz`)).json() as { status: string };
      return body.status === 'degraded';
    }, 'a replica reporting degraded', 10_000);
    const whileDown = await profileOf(user(999, 'e'));
    assert.equal(whileDown, user(999, 'e').upn, 'a new user is served without Redis');
    await redis.restart();
    await waitFor(async () => {
      const answers = await Promise.all(alive.map(async replica => (await (await fetch(`http://127.0.0.1:${replica.port}/readyz`)).json() as { status: string }).status));
      return answers.every(status => status === 'ready');
    }, 'every replica ready again after Redis is back', 15_000);
    const seen = await load;
    assert.deepEqual(seen, users.map(who => who.upn));
  });

  it('keeps serving with Redis gone for good: no call waits on it, each replica exchanges at most once per user, /readyz stays 200 "degraded"', async () => {
    const alive = replicas.filter(replica => replica.child.exitCode === null && replica.child.signalCode === null);
    const readiness = () => Promise.all(alive.map(async replica => {
      const response = await fetch(`http://127.0.0.1:${replica.port}/readyz`);
      return `${response.status} ${(await response.json() as { status: string }).status}`;
    }));
    await redis.kill();
    await waitFor(async () => (await readiness()).every(answer => answer === '200 degraded'), 'every replica reporting degraded', 10_000);
    // Longer than several reconnection attempts: the replicas go on without Redis, not between retries of it.
    const users = Array.from({ length: 120 }, (_, index) => user(index, 'j'));
    const inFlight = 12;
    const pauseMs = (3 * RECONNECT_CAP_MS) / (users.length / inFlight);
    const slowest = { ms: 0 };
    const started = Date.now();
    const seen = await pool(users, inFlight, async who => {
      const callStarted = Date.now();
      const upn = await profileOf(who, 0);
      slowest.ms = Math.max(slowest.ms, Date.now() - callStarted);
      await new Promise(resolve => setTimeout(resolve, pauseMs));
      return upn;
    });
    assert.ok(Date.now() - started > 2 * RECONNECT_CAP_MS, 'the load outlasted several reconnection attempts');
    assert.deepEqual(seen, users.map(who => who.upn));
    assert.ok(slowest.ms < COMMAND_TIMEOUT_MS, `no call waited for a Redis command to time out (slowest ${slowest.ms} ms)`);
    const exchanges = exchangesFor(users).length;
    assert.ok(exchanges >= users.length && exchanges <= users.length * alive.length, `${exchanges} exchanges for ${users.length} users on ${alive.length} replicas`);
    assert.deepEqual(await readiness(), alive.map(() => '200 degraded'));
    // Redis back for the tests after this one.
    await redis.restart();
    await waitFor(async () => (await readiness()).every(answer => answer === '200 ready'), 'every replica ready again', 15_000);
  });

  it('rides out a Graph 429 storm: calls wait as Retry-After says and succeed', async () => {
    const users = Array.from({ length: 40 }, (_, index) => user(index, 'f'));
    await pool(users, 8, who => profileOf(who));
    const storm = Array.from({ length: 30 }, () => ({ status: 429, headers: { 'Retry-After': '1' }, body: { error: { code: 'TooManyRequests', message: 'Please retry again later.' } } }));
    graph.script(...storm);
    const started = Date.now();
    const seen = await pool(users, 20, who => profileOf(who, 0));
    assert.deepEqual(seen, users.map(who => who.upn));
    assert.ok(Date.now() - started >= 900, 'the throttled calls waited for Retry-After');
  });

  it('drains a replica on SIGTERM under load: it exits by itself in time, and the fleet serves on', async () => {
    const draining = replicas.find(replica => replica.child.exitCode === null && replica.child.signalCode === null) as typeof replicas[number];
    const users = Array.from({ length: 200 }, (_, index) => user(index, 'g'));
    const load = pool(users, 16, who => profileOf(who));
    await waitFor(() => exchangesFor(users).length > 30, 'the load under way', 20_000);
    const started = Date.now();
    const exited = new Promise<number | null>(resolve => draining.child.once('exit', code => resolve(code)));
    draining.child.kill('SIGTERM');
    assert.equal(await exited, 0);
    assert.ok(Date.now() - started < 30_000);
    assert.deepEqual(await load, users.map(who => who.upn));
  });

  it('keeps serving known users from cached keys and tokens when Entra ID is down, and tells a new user clearly', async () => {
    const [known, newcomer] = [user(1, 'i'), user(5_000, 'h')];
    assert.equal(await profileOf(known, 0), known.upn);
    tokenFor(newcomer);
    await entra.stop();
    assert.equal(await profileOf(known, 0), known.upn, 'cached signing keys and a cached Graph token');
    await assert.rejects(profileOf(newcomer, 0), /Entra ID could not be reached/);
  });
});
