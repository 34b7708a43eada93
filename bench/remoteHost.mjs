// The remote-server benchmark's other processes, each started by bench/remote.mjs (pinned to a CPU
// when it can be), reporting over the IPC channel and exiting when the parent disconnects:
//   fakes  the tests' fake Entra ID and the fake Graph that accepts only On-Behalf-Of tokens, as
//          the remote tests wire them; reports the server's environment, a caller's access token
//          for the server's API, and a Graph token obtained through On-Behalf-Of (for a direct
//          call to the fake Graph, the Graph round trip on its own).
//   echo   a bare node:http server that reads a JSON-RPC request and answers a result: the floor
//          any node HTTP server starts from.
//   trips  the round trips a warm tools/call makes and none of its work: a node:http server that
//          reads a JSON-RPC request, sends the rate limiter's one Redis command (the same library
//          and command the fleet sends), GETs /v1.0/me over HTTPS with a Graph token it was given
//          (through the tools' own network link, src/server/graph/httpsSend), and answers the profile. No token validation, no On-Behalf-Of cache, no MCP, no audit:
//          the floor of a fleet's tool call on this machine (BENCH_TRIPS_REDIS_URL,
//          BENCH_TRIPS_GRAPH_ENDPOINT, BENCH_TRIPS_GRAPH_TOKEN).
import http from 'node:http';
import { compiled } from './lib.mjs';

const role = process.argv[2];
if (role === 'fakes') {
  await serveFakes();
} else if (role === 'echo') {
  await serveEcho();
} else if (role === 'trips') {
  await serveTrips();
} else {
  throw new Error(`usage: node bench/remoteHost.mjs fakes|echo|trips (got ${role ?? 'nothing'})`);
}

async function serveFakes() {
  const { FakeEntra, GRAPH_RESOURCE } = compiled('test/helpers/fakeEntra');
  const { ALICE, SERVER_CLIENT_ID, SERVER_SECRET, TENANT_ID, oboOnlyGraph, remoteEnv } = compiled('test/helpers/remoteHarness');
  const entra = new FakeEntra({ apps: [{ clientId: SERVER_CLIENT_ID, clientSecret: SERVER_SECRET }] });
  await entra.start();
  const graph = oboOnlyGraph(entra);
  await graph.start();
  const token = entra.issueAccessToken({ user: ALICE, audience: SERVER_CLIENT_ID, scp: 'access_as_user', roles: ['Tools.Read'] });
  const graphToken = await onBehalfOf(entra.tokenEndpointOf(TENANT_ID), { clientId: SERVER_CLIENT_ID, secret: SERVER_SECRET, assertion: token, scope: `${GRAPH_RESOURCE}/User.Read` });
  // The fake Graph records every request for the tests' assertions; thousands of benchmark calls
  // need no record, so the list is emptied as it grows.
  setInterval(() => { graph.requests.length = 0; }, 1_000).unref();
  stopOnDisconnect(() => Promise.all([graph.stop(), entra.stop()]));
  process.send({
    env: remoteEnv(entra, graph), token, graphToken, graphEndpoint: graph.endpoint,
    authorityHost: entra.authorityHost, tenantId: TENANT_ID, clientId: SERVER_CLIENT_ID, userUpn: ALICE.upn,
  });
}

/** The On-Behalf-Of grant as Microsoft documents it (client secret flavour), against the fake's token endpoint. */
async function onBehalfOf(tokenEndpoint, { clientId, secret, assertion, scope }) {
  const response = await fetch(tokenEndpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', client_id: clientId, client_secret: secret,
      assertion, scope, requested_token_use: 'on_behalf_of',
    }),
  });
  const body = await response.json();
  if (!response.ok) { throw new Error(`On-Behalf-Of at the fake Entra: HTTP ${response.status} ${body.error}`); }
  return body.access_token;
}

async function serveEcho() {
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', chunk => chunks.push(chunk));
    req.on('end', () => {
      let id = null;
      try { id = JSON.parse(Buffer.concat(chunks).toString('utf8')).id ?? null; } catch { /* answered with id null */ }
      const body = JSON.stringify({ jsonrpc: '2.0', id, result: {} });
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
      res.end(body);
    });
  });
  await new Promise(resolve => server.listen(0, '127.0.0.1', resolve));
  stopOnDisconnect(() => new Promise(resolve => { server.closeAllConnections(); server.close(resolve); }));
  process.send({ port: server.address().port });
}

async function serveTrips() {
  const { Redis } = await import('ioredis');
  const { RateLimiterRedis } = await import('rate-limiter-flexible');
  const { BENCH_TRIPS_REDIS_URL: redisUrl, BENCH_TRIPS_GRAPH_ENDPOINT: graphEndpoint, BENCH_TRIPS_GRAPH_TOKEN: graphToken } = process.env;
  const redis = new Redis(redisUrl, { keyPrefix: 'bench-trips:', enableOfflineQueue: false, commandTimeout: 1_000, maxRetriesPerRequest: 1 });
  await new Promise((resolve, reject) => { redis.once('ready', resolve); redis.once('error', reject); });
  const limiter = new RateLimiterRedis({ storeClient: redis, keyPrefix: 'rate', points: 1_000_000, duration: 60 });
  const { httpsSend } = compiled('src/server/graph/httpsSend');
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', chunk => chunks.push(chunk));
    req.on('end', async () => {
      let id = null;
      try { id = JSON.parse(Buffer.concat(chunks).toString('utf8')).id ?? null; } catch { /* answered with id null */ }
      try {
        await limiter.consume('one-user');
        const answer = await httpsSend(new URL(`${graphEndpoint}/v1.0/me`), { headers: { authorization: `Bearer ${graphToken}` } });
        const chunks = [];
        for await (const chunk of answer.body) { chunks.push(chunk); }
        const profile = JSON.parse(Buffer.concat(chunks).toString('utf8'));
        const body = JSON.stringify({ jsonrpc: '2.0', id, result: { structuredContent: profile } });
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
        res.end(body);
      } catch (error) {
        res.writeHead(500).end(String(error));
      }
    });
  });
  await new Promise(resolve => server.listen(0, '127.0.0.1', resolve));
  stopOnDisconnect(() => new Promise(resolve => { redis.disconnect(); server.closeAllConnections(); server.close(resolve); }));
  process.send({ port: server.address().port });
}

function stopOnDisconnect(stop) {
  process.on('disconnect', async () => {
    await stop();
    process.exit(0);
  });
}
