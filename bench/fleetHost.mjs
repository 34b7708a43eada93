// The fleet benchmark's fakes, in a process of their own (bench/fleet.mjs pins it with the load
// generator, away from the fleet's core): the tests' fake Entra ID and the fake Graph that accepts
// only On-Behalf-Of tokens, as the fleet tests wire them. Reports the replicas' environment over
// the IPC channel, then answers the parent's questions:
//   { tokens: [from, count] }  access tokens for the server's API of users from…from+count-1
//   { graphToken: index }      a Graph token for that user, got through On-Behalf-Of here (what
//                              a caller hands a pass-through server such as the peer)
//   { oboExchanges: true }     how many On-Behalf-Of exchanges the fake Entra has answered
// and exits when the parent disconnects.
import { compiled } from './lib.mjs';

const { FakeEntra, GRAPH_RESOURCE } = compiled('test/helpers/fakeEntra');
const { SERVER_CLIENT_ID, SERVER_SECRET, TENANT_ID, oboOnlyGraph, remoteEnv } = compiled('test/helpers/remoteHarness');

const entra = new FakeEntra({ apps: [{ clientId: SERVER_CLIENT_ID, clientSecret: SERVER_SECRET }] });
await entra.start();
const graph = oboOnlyGraph(entra);
await graph.start();
// The fake Graph records every request for the tests' assertions; a benchmark's tens of
// thousands need no record, so the list is emptied as it grows.
setInterval(() => { graph.requests.length = 0; }, 1_000).unref();

/**
 * User `index` of the benchmark's tenant: distinct oid and UPN (`user<index>@contoso.com`, which
 * bench/fleet.mjs checks answers against), so the server keeps a cache entry per user.
 */
function benchUser(index) {
  const hex = index.toString(16).padStart(8, '0');
  return { oid: `${hex}-0000-4000-8000-beac00000000`, tid: TENANT_ID, upn: `user${index}@contoso.com`, name: `User ${index}` };
}

const tokenFor = index => entra.issueAccessToken({ user: benchUser(index), audience: SERVER_CLIENT_ID, scp: 'access_as_user', roles: ['Tools.Read'] });

/** The On-Behalf-Of grant as Microsoft documents it (client secret flavour), against the fake's token endpoint. */
async function graphTokenFor(index) {
  const response = await fetch(entra.tokenEndpointOf(TENANT_ID), {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', client_id: SERVER_CLIENT_ID, client_secret: SERVER_SECRET,
      assertion: tokenFor(index), scope: `${GRAPH_RESOURCE}/User.Read`, requested_token_use: 'on_behalf_of',
    }),
  });
  const body = await response.json();
  if (!response.ok) { throw new Error(`On-Behalf-Of at the fake Entra: HTTP ${response.status} ${body.error}`); }
  return body.access_token;
}

async function answer(question) {
  if (question.tokens) {
    const [from, count] = question.tokens;
    return Array.from({ length: count }, (_, offset) => tokenFor(from + offset));
  }
  if (question.graphToken !== undefined) { return graphTokenFor(question.graphToken); }
  if (question.oboExchanges) { return entra.oboExchanges.length; }
  throw new Error(`unknown question ${JSON.stringify(question)}`);
}

process.on('message', async ({ id, question }) => {
  try {
    process.send({ id, answer: await answer(question) });
  } catch (error) {
    process.send({ id, error: error instanceof Error ? error.message : String(error) });
  }
});
process.on('disconnect', async () => {
  await Promise.all([graph.stop(), entra.stop()]);
  process.exit(0);
});
process.send({ ready: true, env: remoteEnv(entra, graph), graphEndpoint: graph.endpoint });
