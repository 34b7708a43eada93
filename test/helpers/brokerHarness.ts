/** A real BrokerServer with scripted handlers, and raw-socket helpers to talk to it. */
import * as net from 'node:net';
import { AuditEvent, formatAuditEvent } from '../../src/extension/audit';
import { BrokerHandlers, BrokerServer, Limits } from '../../src/extension/broker/brokerServer';
import { GetTokenParams } from '../../src/shared/protocol';
import { ScopeAllowList } from '../../src/shared/scopes';
import { allowedScopesFor } from '../../src/shared/toolCatalogue';
import { recordVisible, rememberCredential } from './leakWatch';
import { makeFakeToken } from './tokens';

export interface Harness {
  broker: BrokerServer;
  path: string;
  secret: string;
  audit: AuditEvent[];
  tokenRequests: GetTokenParams[];
  issued: string[];
}

export async function startBroker(options: { limits?: Partial<Limits>; handlers?: Partial<BrokerHandlers>; onIdle?: () => void } = {}): Promise<Harness> {
  const audit: AuditEvent[] = [];
  const tokenRequests: GetTokenParams[] = [];
  const issued: string[] = [];
  const handlers: BrokerHandlers = {
    getToken: async params => {
      tokenRequests.push(params);
      const accessToken = makeFakeToken({ exp: Math.floor(Date.now() / 1000) + 3600, scp: params.scopes.join(' '), upn: 'MeganB@contoso.com', name: 'Megan Bowen', tid: 'tenant-1' });
      issued.push(accessToken);
      return { accessToken, expiresOn: Date.now() + 3600_000, account: 'MeganB@contoso.com', tenantId: 'tenant-1' };
    },
    status: () => ({ signedIn: true, account: 'MeganB@contoso.com', tenantId: 'tenant-1', tenant: 'organizations', cloud: 'Azure (public)', grantedScopes: ['User.Read'] }),
    getRemoteToken: async params => {
      throw Object.assign(new Error(`no remote server ${params.server} in this harness`), {});
    },
    remoteOutcome: () => undefined,
    disallowedScopes: (tool, scopes) => new ScopeAllowList(allowedScopesFor(tool, [], { allowWrites: true, enabledTools: [] })).disallowed(scopes),
    ...options.handlers,
  };
  const broker = new BrokerServer({ handlers, audit: event => { audit.push(event); recordVisible('audit', formatAuditEvent(event)); }, extensionVersion: '9.9.9', limits: options.limits, onIdle: options.onIdle });
  const { path, secret } = await broker.start();
  rememberCredential(secret);
  return { broker, path, secret, audit, tokenRequests, issued };
}

export function frame(message: unknown): Buffer {
  const body = Buffer.from(typeof message === 'string' ? message : JSON.stringify(message), 'utf8');
  return Buffer.concat([Buffer.from(`Content-Length: ${body.length}\r\n\r\n`, 'ascii'), body]);
}

export function hello(secret: string, id: number | string = 1) {
  return { jsonrpc: '2.0', id, method: 'broker/hello', params: { secret, protocolVersion: 1, client: { name: 'test', version: '1', pid: process.pid } } };
}

export function tokenRequest(id: number | string, tool = 'get_my_profile', scopes = ['User.Read']) {
  return { jsonrpc: '2.0', id, method: 'broker/getToken', params: { tool, scopes } };
}

/** Opens a raw socket, writes the given bytes, and collects everything received until close or timeout. */
export function exchange(path: string, payload: Buffer | Buffer[], timeoutMs = 1500, gapMs = 0): Promise<{ received: string; closed: boolean }> {
  return new Promise(resolve => {
    const socket = net.connect(path);
    const chunks: Buffer[] = [];
    let closed = false;
    const finish = () => { clearTimeout(timer); socket.destroy(); resolve({ received: Buffer.concat(chunks).toString('utf8'), closed }); };
    const timer = setTimeout(finish, timeoutMs);
    socket.on('data', chunk => chunks.push(chunk));
    socket.on('error', () => undefined);
    socket.on('close', () => { closed = true; finish(); });
    socket.on('connect', async () => {
      for (const part of Array.isArray(payload) ? payload : [payload]) {
        if (socket.destroyed) { return; }
        socket.write(part);
        if (gapMs) { await new Promise(resolve => setTimeout(resolve, gapMs)); }
      }
    });
  });
}

/** Parses every JSON-RPC message in a received byte string. */
export function parseFrames(received: string): Array<Record<string, unknown>> {
  const messages: Array<Record<string, unknown>> = [];
  let rest = received;
  for (;;) {
    const match = /^Content-Length: (\d+)\r\n\r\n/.exec(rest);
    if (!match) { return messages; }
    const start = match[0].length;
    const length = Number(match[1]);
    messages.push(JSON.parse(Buffer.from(rest.slice(start)).subarray(0, length).toString('utf8')));
    rest = Buffer.from(rest.slice(start)).subarray(length).toString('utf8');
  }
}
