import * as assert from 'node:assert/strict';
import { createHash, randomBytes, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as https from 'node:https';
import { join } from 'node:path';
import { ConfidentialClientApplication, ManagedIdentityApplication } from '@azure/msal-node';
import { FakeEntra, FakeEntraApp, FakeEntraUser, GRAPH_RESOURCE } from '../helpers/fakeEntra';
import { FakeGraph } from '../helpers/fakeGraph';
import { rememberCredential } from '../helpers/leakWatch';

const TENANT = '72f988bf-86f1-41af-91ab-2d7cd011db47';
const API_CLIENT_ID = '3f1e6a9c-2b4d-4e8f-9a7b-1c2d3e4f5a6b';
const megan: FakeEntraUser = { oid: '87d349ed-44d7-43e1-9a83-5f2406dee5bd', tid: TENANT, upn: 'MeganB@contoso.com', name: 'Megan Bowen' };
/** PKCS#8 key followed by its self-signed certificate, registered on the app as a client credential. */
const CLIENT_PEM = readFileSync(join(__dirname, '..', '..', '..', 'test', 'fixtures', 'tls', 'obo-client.pem'), 'utf8');
const CLIENT_KEY = /-----BEGIN PRIVATE KEY-----[\s\S]+?-----END PRIVATE KEY-----/.exec(CLIENT_PEM)![0];
const CLIENT_CERT = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.exec(CLIENT_PEM)![0];

function decode(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString('utf8'));
}

function header(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[0], 'base64url').toString('utf8'));
}

function getJson(url: string): Promise<{ status: number; body: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    https.get(url, res => {
      const chunks: Buffer[] = [];
      res.on('data', chunk => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) }));
    }).on('error', reject);
  });
}

function fetchStatus(url: string, token: string): Promise<number> {
  return new Promise((resolve, reject) => {
    https.get(url, { headers: { authorization: `Bearer ${token}` } }, res => { res.resume(); resolve(res.statusCode ?? 0); }).on('error', reject);
  });
}

describe('fake Entra ID', () => {
  const secret = `obo~${randomBytes(24).toString('base64url')}`;
  rememberCredential(secret);
  const app: FakeEntraApp = { clientId: API_CLIENT_ID, clientSecret: secret, certificatePem: CLIENT_CERT, consentedScopes: ['User.Read', 'Mail.Read', 'https://management.azure.com/user_impersonation'] };
  let entra: FakeEntra;
  let host: string;

  beforeEach(async () => {
    entra = new FakeEntra({ apps: [app], tenants: [TENANT] });
    host = await entra.start();
  });
  afterEach(() => entra.stop());

  function confidentialClient(credential: { clientSecret?: string; clientCertificate?: { thumbprint?: string; thumbprintSha256?: string; privateKey: string; x5c?: string }; clientAssertion?: () => Promise<string> }) {
    return new ConfidentialClientApplication({ auth: { clientId: API_CLIENT_ID, authority: `${host}/${TENANT}`, knownAuthorities: [new URL(host).host], ...credential } });
  }

  function userToken(overrides: Partial<Parameters<FakeEntra['issueAccessToken']>[0]> = {}): string {
    return entra.issueAccessToken({ user: megan, audience: API_CLIENT_ID, scp: 'access_as_user', ...overrides });
  }

  async function oboError(client: ConfidentialClientApplication, oboAssertion: string, scopes = ['User.Read']): Promise<Error & { errorCode?: string; subError?: string }> {
    return client.acquireTokenOnBehalfOf({ oboAssertion, scopes, skipCache: true }).then(
      () => assert.fail('the OBO exchange should have been refused'),
      (error: Error) => error,
    );
  }

  it('publishes the discovery document and keys at Entra\'s paths, shaped as Entra\'s', async () => {
    const { status, body } = await getJson(`${host}/${TENANT}/v2.0/.well-known/openid-configuration`);
    assert.equal(status, 200);
    assert.equal(body.issuer, `${host}/${TENANT}/v2.0`);
    assert.equal(body.jwks_uri, `${host}/${TENANT}/discovery/v2.0/keys`);
    assert.equal(body.token_endpoint, `${host}/${TENANT}/oauth2/v2.0/token`);
    assert.equal(body.authorization_endpoint, `${host}/${TENANT}/oauth2/v2.0/authorize`);
    assert.equal(body.end_session_endpoint, `${host}/${TENANT}/oauth2/v2.0/logout`);
    assert.deepEqual(body.id_token_signing_alg_values_supported, ['RS256']);
    const keys = (await getJson(String(body.jwks_uri))).body.keys as Array<Record<string, unknown>>;
    assert.equal(keys.length, 1);
    assert.deepEqual(Object.keys(keys[0]).sort(), ['e', 'issuer', 'kid', 'kty', 'n', 'use', 'x5t']);
    assert.equal(keys[0].kty, 'RSA');
    assert.equal(keys[0].use, 'sig');
  });

  it('answers an unknown tenant 400 AADSTS90002, as Entra does', async () => {
    const { status, body } = await getJson(`${host}/00000000-0000-4000-8000-00000000dead/v2.0/.well-known/openid-configuration`);
    assert.equal(status, 400);
    assert.equal(body.error, 'invalid_tenant');
    assert.deepEqual(body.error_codes, [90002]);
    assert.match(String(body.error_description), /^AADSTS90002: Tenant '00000000-0000-4000-8000-00000000dead' not found/);
    assert.ok(body.trace_id && body.correlation_id && body.timestamp);
  });

  it('issues v2 access tokens for our API with Entra\'s claims, signed RS256 with the published kid', () => {
    const token = userToken({ roles: ['Mcp.Use'] });
    const claims = decode(token);
    assert.equal(header(token).alg, 'RS256');
    assert.equal(header(token).kid, entra.currentKid);
    assert.equal(claims.iss, `${host}/${TENANT}/v2.0`);
    assert.equal(claims.aud, API_CLIENT_ID);
    assert.equal(claims.ver, '2.0');
    assert.equal(claims.scp, 'access_as_user');
    assert.deepEqual(claims.roles, ['Mcp.Use']);
    for (const name of ['azp', 'oid', 'tid', 'upn', 'name', 'preferred_username', 'iat', 'nbf', 'exp', 'uti', 'sub']) {
      assert.ok(claims[name] !== undefined, `claim ${name}`);
    }
    assert.equal(Number(claims.exp) - Math.floor(Date.now() / 1000) > 3500, true);
  });

  it('issues v1, app-only, expired, unsigned and HS256 tokens for a validator\'s negative cases', () => {
    const v1 = decode(userToken({ ver: '1.0' }));
    assert.equal(v1.iss, `https://sts.windows.net/${TENANT}/`);
    assert.equal(v1.aud, `api://${API_CLIENT_ID}`);
    assert.equal(v1.ver, '1.0');
    const appOnly = decode(userToken({ appOnly: true, roles: ['Mcp.Admin'], scp: undefined }));
    assert.equal(appOnly.scp, undefined);
    assert.equal(appOnly.idtyp, 'app');
    assert.equal(appOnly.sub, megan.oid);
    assert.equal(appOnly.upn, undefined);
    assert.ok(Number(decode(userToken({ expiresInSeconds: -60 })).exp) < Date.now() / 1000);
    assert.ok(Number(decode(userToken({ notBeforeOffsetSeconds: 600 })).nbf) > Date.now() / 1000);
    const unsigned = userToken({ alg: 'none' });
    assert.equal(header(unsigned).alg, 'none');
    assert.equal(unsigned.split('.')[2], '');
    assert.equal(header(userToken({ alg: 'HS256' })).alg, 'HS256');
    assert.equal(header(userToken({ kid: 'unknown-kid' })).kid, 'unknown-kid');
    assert.equal(decode(userToken({ issuer: 'https://evil.example/', tid: 'other' })).iss, 'https://evil.example/');
  });

  it('exchanges a user\'s token On-Behalf-Of with a client secret through msal-node, for a Graph token', async () => {
    const result = await confidentialClient({ clientSecret: secret }).acquireTokenOnBehalfOf({ oboAssertion: userToken(), scopes: ['User.Read'], skipCache: true });
    assert.ok(result);
    const claims = entra.verifyResourceToken(result.accessToken, GRAPH_RESOURCE);
    assert.ok(claims, 'the Graph token verifies');
    assert.equal(claims.scp, 'User.Read');
    assert.equal(claims.oid, megan.oid);
    assert.equal(claims.upn, megan.upn);
    assert.equal(claims.tid, TENANT);
    assert.deepEqual(result.scopes, ['https://graph.microsoft.com/User.Read']);
    assert.deepEqual(entra.oboExchanges, [{ clientId: API_CLIENT_ID, tid: TENANT, oid: megan.oid, scopes: ['User.Read'], credential: 'secret' }]);
    assert.equal(entra.verifyResourceToken(result.accessToken, 'https://management.azure.com'), undefined, 'only for its own audience');
  });

  it('exchanges with a certificate credential, PS256 + x5t#S256 and RS256 + x5t', async () => {
    const certificate = new X509Certificate(CLIENT_CERT);
    const thumbprintSha256 = createHash('sha256').update(certificate.raw).digest('hex');
    const thumbprint = createHash('sha1').update(certificate.raw).digest('hex');
    for (const clientCertificate of [{ thumbprintSha256, privateKey: CLIENT_KEY, x5c: CLIENT_CERT }, { thumbprint, privateKey: CLIENT_KEY }]) {
      const result = await confidentialClient({ clientCertificate }).acquireTokenOnBehalfOf({ oboAssertion: userToken(), scopes: ['https://graph.microsoft.com/Mail.Read'], skipCache: true });
      assert.ok(entra.verifyResourceToken(result!.accessToken, GRAPH_RESOURCE));
    }
    assert.deepEqual(entra.oboExchanges.map(exchange => exchange.credential), ['certificate', 'certificate']);
    assert.deepEqual(entra.oboExchanges[0].scopes, ['https://graph.microsoft.com/Mail.Read']);
  });

  it('refuses a certificate it does not know', async () => {
    const other = new FakeEntra({ apps: [{ clientId: API_CLIENT_ID, certificatePem: readFileSync(join(__dirname, '..', '..', '..', 'test', 'fixtures', 'tls', 'localhost.pem'), 'utf8') }] });
    const otherHost = await other.start();
    try {
      const client = new ConfidentialClientApplication({ auth: { clientId: API_CLIENT_ID, authority: `${otherHost}/${TENANT}`, knownAuthorities: [new URL(otherHost).host],
        clientCertificate: { thumbprintSha256: createHash('sha256').update(new X509Certificate(CLIENT_CERT).raw).digest('hex'), privateKey: CLIENT_KEY } } });
      const oboAssertion = other.issueAccessToken({ user: megan, audience: API_CLIENT_ID, scp: 'access_as_user' });
      assert.match((await oboError(client, oboAssertion)).message, /AADSTS700027/);
    } finally {
      await other.stop();
    }
  });

  it('exchanges with a managed identity\'s token as a federated client assertion', async () => {
    const saved = { IDENTITY_ENDPOINT: process.env.IDENTITY_ENDPOINT, IDENTITY_HEADER: process.env.IDENTITY_HEADER };
    const mi = await entra.managedIdentityEndpoint();
    try {
      process.env.IDENTITY_ENDPOINT = mi.endpoint;
      process.env.IDENTITY_HEADER = mi.header;
      const managedIdentity = new ManagedIdentityApplication();
      app.federatedCredential = { issuer: mi.issuer, subject: mi.principalId, audience: 'api://AzureADTokenExchange' };
      const clientAssertion = async () => (await managedIdentity.acquireToken({ resource: 'api://AzureADTokenExchange', forceRefresh: true })).accessToken;
      const miToken = await clientAssertion();
      assert.equal(decode(miToken).aud, 'api://AzureADTokenExchange');
      assert.equal(decode(miToken).sub, mi.principalId);
      assert.equal(decode(miToken).iss, `${host}/${TENANT}/v2.0`);
      const result = await confidentialClient({ clientAssertion }).acquireTokenOnBehalfOf({ oboAssertion: userToken(), scopes: ['User.Read'], skipCache: true });
      assert.ok(entra.verifyResourceToken(result!.accessToken, GRAPH_RESOURCE));
      assert.equal(entra.oboExchanges[0].credential, 'assertion');
      // A federated credential naming another subject refuses the same assertion.
      app.federatedCredential = { ...app.federatedCredential, subject: '00000000-0000-4000-8000-000000000001' };
      assert.match((await oboError(confidentialClient({ clientAssertion }), userToken())).message, /AADSTS700213/);
    } finally {
      delete app.federatedCredential;
      await mi.stop();
      for (const [name, value] of Object.entries(saved)) {
        if (value === undefined) { delete process.env[name]; } else { process.env[name] = value; }
      }
    }
  });

  it('refuses a bad client secret with AADSTS7000215', async () => {
    const error = await oboError(confidentialClient({ clientSecret: 'not-the-secret' }), userToken());
    assert.equal(error.errorCode, 'invalid_client');
    assert.match(error.message, /AADSTS7000215/);
    assert.equal(entra.oboExchanges.length, 0);
  });

  it('refuses a scope without consent with AADSTS65001 consent_required', async () => {
    const error = await oboError(confidentialClient({ clientSecret: secret }), userToken(), ['Files.Read.All']);
    assert.equal(error.errorCode, 'invalid_grant');
    assert.equal(error.subError, 'consent_required');
    assert.match(error.message, /AADSTS65001/);
  });

  it('refuses an expired assertion (AADSTS500133), an app-only one, an unsigned one and one for another audience (AADSTS50013)', async () => {
    const client = confidentialClient({ clientSecret: secret });
    assert.match((await oboError(client, userToken({ expiresInSeconds: -60 }))).message, /AADSTS500133/);
    assert.match((await oboError(client, userToken({ appOnly: true, scp: undefined, roles: ['Mcp.Use'] }))).message, /AADSTS50013/);
    assert.match((await oboError(client, userToken({ alg: 'none' }))).message, /AADSTS50013/);
    assert.match((await oboError(client, userToken({ alg: 'HS256' }))).message, /AADSTS50013/);
    assert.match((await oboError(client, userToken({ audience: '11111111-2222-3333-4444-555555555555' }))).message, /AADSTS50013: Assertion audience does not match/);
  });

  it('issues ARM tokens for ARM scopes and refuses a request mixing resources (AADSTS28000)', async () => {
    const client = confidentialClient({ clientSecret: secret });
    const arm = await client.acquireTokenOnBehalfOf({ oboAssertion: userToken(), scopes: ['https://management.azure.com/user_impersonation'], skipCache: true });
    assert.equal(entra.verifyResourceToken(arm!.accessToken, 'https://management.azure.com')?.scp, 'user_impersonation');
    const error = await oboError(client, userToken(), ['User.Read', 'https://management.azure.com/user_impersonation']);
    assert.equal(error.errorCode, 'invalid_scope');
    assert.match(error.message, /AADSTS28000/);
  });

  it('refuses a token it issued for our API when presented as a Graph token (no pass-through)', () => {
    assert.equal(entra.verifyResourceToken(userToken(), GRAPH_RESOURCE), undefined);
    assert.equal(entra.verifyResourceToken(userToken({ audience: GRAPH_RESOURCE }), GRAPH_RESOURCE), undefined);
  });

  it('lets FakeGraph accept only Graph tokens it issued On-Behalf-Of', async () => {
    const graph = new FakeGraph({ authenticate: token => entra.verifyResourceToken(token, GRAPH_RESOURCE) });
    const endpoint = await graph.start();
    try {
      const callMe = (token: string) => fetchStatus(`${endpoint}/v1.0/me`, token);
      const obo = await confidentialClient({ clientSecret: secret }).acquireTokenOnBehalfOf({ oboAssertion: userToken(), scopes: ['User.Read'], skipCache: true });
      assert.equal(await callMe(obo!.accessToken), 200);
      assert.equal(await callMe(userToken()), 401, 'a passed-through token is refused');
    } finally {
      await graph.stop();
    }
  });

  it('rolls its signing key over: a new kid, both keys published, then only the new one; counts JWKS fetches', async () => {
    const jwksUri = `${host}/${TENANT}/discovery/v2.0/keys`;
    const before = userToken();
    const oldKid = entra.currentKid;
    await getJson(jwksUri);
    entra.rotateKeys();
    const after = userToken();
    assert.notEqual(header(after).kid, oldKid);
    const during = (await getJson(jwksUri)).body.keys as Array<{ kid: string }>;
    assert.deepEqual(during.map(key => key.kid), [header(after).kid, oldKid]);
    const client = confidentialClient({ clientSecret: secret });
    assert.ok(await client.acquireTokenOnBehalfOf({ oboAssertion: before, scopes: ['User.Read'], skipCache: true }), 'a token signed with the previous key still exchanges');
    entra.dropOldKeys();
    assert.deepEqual(((await getJson(jwksUri)).body.keys as Array<{ kid: string }>).map(key => key.kid), [header(after).kid]);
    assert.match((await oboError(client, before)).message, /AADSTS50013/);
    assert.equal(entra.jwksFetches, 3);
  });

  it('fails the token endpoint on demand, then recovers', async () => {
    entra.failTokenEndpoint();
    const error = await oboError(confidentialClient({ clientSecret: secret }), userToken());
    assert.match(error.message, /temporarily_unavailable|AADSTS90033/);
    entra.clearFailures();
    entra.failTokenEndpoint({ status: 400, body: { error: 'invalid_request', error_description: 'AADSTS900144: scripted', error_codes: [900144] } });
    assert.match((await oboError(confidentialClient({ clientSecret: secret }), userToken())).message, /AADSTS900144/);
    entra.clearFailures();
    assert.ok(await confidentialClient({ clientSecret: secret }).acquireTokenOnBehalfOf({ oboAssertion: userToken(), scopes: ['User.Read'], skipCache: true }));
  });
});
