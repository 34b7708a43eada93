# The remote MCP server (dist/remote.js) as a small, non-root image.
#
#   docker build -t entra-mcp-server .
#   docker run --rm -p 8080:8080 -e ENTRA_MCP_TENANT_ID=… -e ENTRA_MCP_CLIENT_ID=… \
#     -e ENTRA_MCP_MANAGED_IDENTITY=… -e ENTRA_MCP_PUBLIC_URL=https://mcp.contoso.com/mcp entra-mcp-server
#
# The image serves plain HTTP on 0.0.0.0:8080 and expects a proxy in front that terminates TLS
# (Container Apps ingress, API Management): hence ENTRA_MCP_TRUST_PROXY=true below. To serve
# HTTPS from the container itself, mount a certificate and set ENTRA_MCP_TLS_CERT and
# ENTRA_MCP_TLS_KEY (then set ENTRA_MCP_TRUST_PROXY=false unless a proxy is in front).

# --- build: the whole toolchain, thrown away afterwards ---------------------------------------
FROM node:20-bookworm-slim AS build
WORKDIR /app
# Dependencies first, so this layer is reused while only the sources change.
# npm ci runs esbuild's postinstall (it checks its platform binary); nothing else is needed.
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build

# --- runtime: Node.js and one file ------------------------------------------------------------
# dist/remote.js is a self-contained bundle: no node_modules, no package.json needed.
FROM node:20-bookworm-slim
ENV NODE_ENV=production \
    ENTRA_MCP_HOST=0.0.0.0 \
    ENTRA_MCP_TRUST_PROXY=true
WORKDIR /app
COPY --from=build --chown=root:root /app/dist/remote.js dist/remote.js
# The image's own unprivileged user; the app files stay owned by root, so they are read-only to it.
USER node
EXPOSE 8080
# Liveness only (/healthz); readiness (/readyz: signing keys loaded) belongs to the orchestrator's
# readiness probe. Container Apps ignores HEALTHCHECK and uses its own probes.
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
  CMD ["node", "-e", "const tls=Boolean(process.env.ENTRA_MCP_TLS_CERT);const port=process.env.ENTRA_MCP_PORT||process.env.PORT||8080;require(tls?'node:https':'node:http').get({host:'127.0.0.1',port,path:'/healthz',rejectUnauthorized:false,timeout:4000},r=>process.exit(r.statusCode===200?0:1)).on('error',()=>process.exit(1)).on('timeout',()=>process.exit(1))"]
CMD ["node", "dist/remote.js"]
