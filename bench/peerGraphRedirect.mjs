// Preloaded into the peer (`node --import bench/peerGraphRedirect.mjs …`) by bench/fleet.mjs.
// @softeria/ms-365-mcp-server has no setting for its Graph base URL (it is fixed per cloud:
// https://graph.microsoft.com or the China endpoint), so its global fetch is wrapped to send
// what it addresses to https://graph.microsoft.com to the fake Graph (BENCH_GRAPH_ENDPOINT)
// instead; nothing else about the peer changes. The wrapper costs one string comparison a call.
const FIXED_GRAPH = 'https://graph.microsoft.com';
const fakeGraph = process.env.BENCH_GRAPH_ENDPOINT?.replace(/\/$/, '');
if (!fakeGraph) { throw new Error('BENCH_GRAPH_ENDPOINT is not set'); }

const originalFetch = globalThis.fetch;
globalThis.fetch = (input, init) => {
  const url = typeof input === 'string' ? input : input instanceof URL ? input.href : undefined;
  if (url?.startsWith(`${FIXED_GRAPH}/`)) {
    return originalFetch(fakeGraph + url.slice(FIXED_GRAPH.length), init);
  }
  return originalFetch(input, init);
};
