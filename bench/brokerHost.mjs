// Stands in for the extension host in the IPC benchmarks, as a separate process like the real
// one: a real BrokerServer whose getToken is the real TokenService (tests' fake provider, in-memory
// SecretStorage and Memento), plus a bare echo on the same kind of socket and, on request, the
// tests' HTTPS fake Graph. Started by startBrokerHost() in lib.mjs; reports its addresses over
// the IPC channel and exits when the parent disconnects.
import net from 'node:net';
import { compiled } from './lib.mjs';

const { BrokerServer } = compiled('src/extension/broker/brokerServer');
const { createBrokerEndpoint } = compiled('src/extension/broker/socketPath');
const { createAudit } = compiled('src/extension/audit');
const { TokenCache } = compiled('src/extension/auth/tokenCache');
const { TokenService } = compiled('src/extension/auth/tokenService');
const { CLOUDS } = compiled('src/shared/clouds');
const { ScopeAllowList } = compiled('src/shared/scopes');
const { allowedScopesFor } = compiled('src/shared/toolCatalogue');
const { FakeProvider, MemorySecrets, MemoryState } = compiled('test/helpers/fakeProvider');

/** Wired as extension.ts wires it; audit lines are formatted as for the log channel, then dropped. */
async function startBroker() {
  const audit = createAudit({ info: () => {}, warn: () => {} });
  const settings = { cloud: CLOUDS.AzureCloud, tenant: 'organizations', promptForSignIn: true };
  const tokens = new TokenService({
    getSession: new FakeProvider().getSession,
    cache: new TokenCache(new MemorySecrets()),
    state: new MemoryState(),
    settings: () => settings,
    confirmSignIn: async () => true,
    audit,
  });
  const selection = { allowWrites: false, enabledTools: [] };
  const broker = new BrokerServer({
    extensionVersion: 'bench',
    audit,
    handlers: {
      getToken: params => tokens.getToken(params),
      status: () => tokens.status(),
      disallowedScopes: (tool, scopes) => new ScopeAllowList(allowedScopesFor(tool, [], selection)).disallowed(scopes),
    },
  });
  const address = await broker.start();
  // Warm the cache: every later get_my_profile token is a cache hit.
  await tokens.getToken({ tool: 'get_my_profile', scopes: ['User.Read'] });
  return { address, stop: () => broker.stop() };
}

/** Writes back whatever arrives; its socket lives where the broker's does. */
async function startEcho() {
  const endpoint = createBrokerEndpoint();
  const server = net.createServer(socket => socket.pipe(socket));
  await new Promise(resolve => server.listen(endpoint.path, resolve));
  return { path: endpoint.path, stop: () => { server.close(); endpoint.dispose(); } };
}

async function startGraph() {
  const { FakeGraph } = compiled('test/helpers/fakeGraph');
  const graph = new FakeGraph();
  await graph.start();
  return { endpoint: graph.endpoint, stop: () => graph.stop() };
}

const withGraph = process.argv.includes('--fake-graph');
const [broker, echo, graph] = await Promise.all([startBroker(), startEcho(), withGraph ? startGraph() : undefined]);
process.on('disconnect', async () => {
  await Promise.all([broker.stop(), echo.stop(), graph?.stop()]);
  process.exit(0);
});
process.send({ broker: broker.address, echoPath: echo.path, graphEndpoint: graph?.endpoint });
