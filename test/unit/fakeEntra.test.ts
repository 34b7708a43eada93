import * as assert from 'node:assert/strict';
import { createHash, randomBytes, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as https from 'node:https';
import { join } from 'node:path';
import { AccountInfo, AuthenticationResult, ConfidentialClientApplication, CryptoProvider, IdTokenClaims, InteractionRequiredAuthError, ManagedIdentityApplication } from '@azure/msal-node';
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

describe('fake Entra ID: authorization code and refresh', () => {
  const secret = `code~${randomBytes(24).toString('base64url')}`;
  rememberCredential(secret);
  const redirectUri = 'https://mcp.contoso.example/auth/callback';
  const signInScopes = ['openid', 'profile', 'offline_access', 'User.Read'];
  const adele: FakeEntraUser = { oid: 'c4a5e0a7-5b7e-4a53-8a4d-1f0d5b2c9e11', tid: TENANT, upn: 'AdeleV@contoso.com', name: 'Adele Vance' };
  const app: FakeEntraApp = { clientId: API_CLIENT_ID, clientSecret: secret, redirectUris: [redirectUri],
    consentedScopes: ['User.Read', 'Mail.Read', 'https://management.azure.com/user_impersonation'] };
  let entra: FakeEntra;
  let host: string;

  beforeEach(async () => {
    entra = new FakeEntra({ apps: [app], tenants: [TENANT] });
    host = await entra.start();
    entra.addUser(megan, { roles: ['Mcp.Admin'] });
    entra.addUser(adele);
  });
  afterEach(() => entra.stop());

  function webApp(): ConfidentialClientApplication {
    return new ConfidentialClientApplication({ auth: { clientId: API_CLIENT_ID, authority: `${host}/${TENANT}`, knownAuthorities: [new URL(host).host], clientSecret: secret } });
  }

  /** The browser's part: follow msal's URL to Entra and read where Entra sends the user back. */
  async function visit(url: string): Promise<{ status: number; location: URL | undefined; text: string }> {
    const response = await fetch(url, { redirect: 'manual' });
    const location = response.headers.get('location');
    return { status: response.status, location: location ? new URL(location) : undefined, text: await response.text() };
  }

  async function authorizeUrl(cca: ConfidentialClientApplication, overrides: Record<string, string> = {}): Promise<{ url: string; verifier: string; state: string; nonce: string }> {
    const { verifier, challenge } = await new CryptoProvider().generatePkceCodes();
    const state = randomBytes(16).toString('base64url');
    const nonce = randomBytes(16).toString('base64url');
    const url = new URL(await cca.getAuthCodeUrl({ scopes: signInScopes, redirectUri, codeChallenge: challenge, codeChallengeMethod: 'S256', state, nonce }));
    for (const [name, value] of Object.entries(overrides)) { url.searchParams.set(name, value); }
    return { url: url.href, verifier, state, nonce };
  }

  /** A whole sign-in: the authorization URL, Entra's redirect, the code redeemed by msal. */
  async function signIn(cca: ConfidentialClientApplication): Promise<AuthenticationResult> {
    const { url, verifier, nonce } = await authorizeUrl(cca);
    const code = (await visit(url)).location!.searchParams.get('code')!;
    return cca.acquireTokenByCode({ code, redirectUri, scopes: signInScopes, codeVerifier: verifier, nonce });
  }

  async function refused(promise: Promise<unknown>): Promise<Error & { errorCode?: string; subError?: string }> {
    return promise.then(() => assert.fail('msal should have been refused'), (error: Error) => error);
  }

  it('signs a user in with msal-node: getAuthCodeUrl, a redirect with the code and state, acquireTokenByCode with the account and app roles', async () => {
    entra.signInAs(megan);
    const cca = webApp();
    const { url, verifier, state, nonce } = await authorizeUrl(cca);
    assert.ok(url.startsWith(`${host}/${TENANT}/oauth2/v2.0/authorize?`));
    const answer = await visit(url);
    assert.equal(answer.status, 302);
    assert.equal(`${answer.location!.origin}${answer.location!.pathname}`, redirectUri);
    assert.equal(answer.location!.searchParams.get('state'), state);
    const code = answer.location!.searchParams.get('code')!;
    assert.ok(code.length > 40);
    assert.deepEqual(entra.authorizeRequests, [{ clientId: API_CLIENT_ID, redirectUri, scopes: signInScopes, hasPkce: true, codeChallengeMethod: 'S256', state, outcome: 'code' }]);

    const result = await cca.acquireTokenByCode({ code, redirectUri, scopes: signInScopes, codeVerifier: verifier, nonce });
    assert.equal(result.account?.homeAccountId, `${megan.oid}.${TENANT}`, 'built from client_info');
    assert.equal(result.account?.username, megan.upn);
    assert.equal(result.account?.localAccountId, megan.oid);
    assert.equal(result.account?.tenantId, TENANT);
    assert.deepEqual((result.idTokenClaims as IdTokenClaims).roles, ['Mcp.Admin']);
    const idToken = decode(result.idToken);
    assert.equal(header(result.idToken).kid, entra.currentKid);
    assert.equal(idToken.aud, API_CLIENT_ID);
    assert.equal(idToken.iss, `${host}/${TENANT}/v2.0`);
    assert.equal(idToken.nonce, nonce);
    assert.equal(idToken.name, megan.name);
    for (const name of ['oid', 'tid', 'sub', 'preferred_username', 'iat', 'nbf', 'exp']) { assert.ok(idToken[name] !== undefined, `id token claim ${name}`); }
    const graph = entra.verifyResourceToken(result.accessToken, GRAPH_RESOURCE);
    assert.equal(graph?.scp, 'User.Read');
    assert.equal(graph?.oid, megan.oid);
    assert.equal(graph?.roles, undefined, 'app roles are for the app, not for Graph');
    assert.deepEqual(entra.codeRedemptions, [{ clientId: API_CLIENT_ID, tid: TENANT, oid: megan.oid, scopes: ['User.Read'], credential: 'secret' }]);
  });

  it('answers sign-in scopes alone with a Graph User.Read token, and a login_hint picks that registered user', async () => {
    entra.signInAs(megan);
    const cca = webApp();
    const { url, verifier, nonce } = await authorizeUrl(cca, { login_hint: adele.upn.toUpperCase(), scope: 'openid profile offline_access' });
    const code = (await visit(url)).location!.searchParams.get('code')!;
    const result = await cca.acquireTokenByCode({ code, redirectUri, scopes: ['openid', 'profile', 'offline_access'], codeVerifier: verifier, nonce });
    assert.equal(result.account?.username, adele.upn);
    assert.equal((result.idTokenClaims as IdTokenClaims).roles, undefined, 'no roles assigned, no roles claim');
    assert.equal(entra.verifyResourceToken(result.accessToken, GRAPH_RESOURCE)?.scp, 'User.Read');
    assert.deepEqual(entra.codeRedemptions[0].scopes, []);
  });

  it('refreshes silently for another Graph scope and for ARM with the refresh token; after revokeSignIns msal raises InteractionRequiredAuthError', async () => {
    entra.signInAs(megan);
    const cca = webApp();
    const { account } = await signIn(cca);
    assert.ok(account);
    const mail = await cca.acquireTokenSilent({ account, scopes: ['Mail.Read'], forceRefresh: true });
    assert.equal(entra.verifyResourceToken(mail.accessToken, GRAPH_RESOURCE)?.scp, 'Mail.Read');
    const arm = await cca.acquireTokenSilent({ account, scopes: ['https://management.azure.com/user_impersonation'] });
    assert.equal(entra.verifyResourceToken(arm.accessToken, 'https://management.azure.com')?.scp, 'user_impersonation');
    assert.deepEqual(entra.refreshGrants, [
      { clientId: API_CLIENT_ID, tid: TENANT, oid: megan.oid, scopes: ['Mail.Read'], credential: 'secret' },
      { clientId: API_CLIENT_ID, tid: TENANT, oid: megan.oid, scopes: ['https://management.azure.com/user_impersonation'], credential: 'secret' },
    ]);

    entra.revokeSignIns(megan.oid);
    const error = await refused(cca.acquireTokenSilent({ account, scopes: ['Mail.Read'], forceRefresh: true }));
    assert.ok(error instanceof InteractionRequiredAuthError, `got ${error.name}`);
    assert.equal(error.errorCode, 'invalid_grant');
    assert.equal(error.subError, 'bad_token');
    assert.match(error.message, /AADSTS50173: The provided grant has expired due to it being revoked/);
    // bad_token makes msal drop the refresh token: the next attempt does not even reach Entra.
    const again = await refused(cca.acquireTokenSilent({ account, scopes: ['Mail.Read'], forceRefresh: true }));
    assert.ok(again instanceof InteractionRequiredAuthError);
    assert.equal(again.errorCode, 'no_tokens_found');
    assert.equal(entra.refreshGrants.length, 2);

    const fresh = await signIn(cca);
    assert.ok(await cca.acquireTokenSilent({ account: fresh.account!, scopes: ['Mail.Read'], forceRefresh: true }), 'a new sign-in gets a live refresh token');
  });

  it('keeps an older refresh token valid after a refresh, and kills refresh tokens unused for 90 days (AADSTS700082)', async () => {
    entra.signInAs(megan);
    const first = webApp();
    const { account } = await signIn(first);
    const snapshot = first.getTokenCache().serialize();
    await first.acquireTokenSilent({ account: account!, scopes: ['Mail.Read'], forceRefresh: true });
    const older = webApp();
    older.getTokenCache().deserialize(snapshot);
    assert.ok(await older.acquireTokenSilent({ account: account!, scopes: ['Mail.Read'], forceRefresh: true }), 'the refresh token from before the refresh still works');
    entra.expireRefreshTokens(megan.oid);
    const error = await refused(first.acquireTokenSilent({ account: account!, scopes: ['Mail.Read'], forceRefresh: true }));
    assert.ok(error instanceof InteractionRequiredAuthError);
    assert.match(error.message, /AADSTS700082/);
  });

  it('gets tokens silently from a serialized MSAL token cache loaded into a new client, as a server stores it', async () => {
    entra.signInAs(megan);
    const cca = webApp();
    await signIn(cca);
    const stored = cca.getTokenCache().serialize();
    assert.ok(JSON.parse(stored).RefreshToken, 'the cache holds the refresh token');
    const restored = webApp();
    await restored.getTokenCache().deserialize(stored);
    const [account]: AccountInfo[] = await restored.getTokenCache().getAllAccounts();
    assert.equal(account.homeAccountId, `${megan.oid}.${TENANT}`);
    const arm = await restored.acquireTokenSilent({ account, scopes: ['https://management.azure.com/user_impersonation'] });
    assert.equal(entra.verifyResourceToken(arm.accessToken, 'https://management.azure.com')?.oid, megan.oid);
    assert.equal(entra.refreshGrants.length, 1, 'a new resource: from the refresh token, not the cache');
  });

  it('refuses a wrong code_verifier (AADSTS501481), a replayed code (AADSTS54005), an expired code (AADSTS70008) and another redirect URI (AADSTS50011)', async () => {
    entra.signInAs(megan);
    const cca = webApp();
    const redeem = async (change: { codeVerifier?: string; redirectUri?: string; expire?: boolean; twice?: boolean }) => {
      const { url, verifier, nonce } = await authorizeUrl(cca);
      const code = (await visit(url)).location!.searchParams.get('code')!;
      if (change.expire) { entra.expireAuthorizationCodes(); }
      const request = { code, redirectUri: change.redirectUri ?? redirectUri, scopes: signInScopes, codeVerifier: change.codeVerifier ?? verifier, nonce };
      if (change.twice) { await cca.acquireTokenByCode(request); }
      return refused(cca.acquireTokenByCode(request));
    };
    const wrongVerifier = await redeem({ codeVerifier: (await new CryptoProvider().generatePkceCodes()).verifier });
    assert.equal(wrongVerifier.errorCode, 'invalid_grant');
    assert.match(wrongVerifier.message, /AADSTS501481/);
    const replayed = await redeem({ twice: true });
    assert.equal(replayed.errorCode, 'invalid_grant');
    assert.match(replayed.message, /AADSTS54005/);
    assert.match((await redeem({ expire: true })).message, /AADSTS70008/);
    const otherRedirect = await redeem({ redirectUri: 'https://mcp.contoso.example/other' });
    assert.equal(otherRedirect.errorCode, 'invalid_grant');
    assert.match(otherRedirect.message, /AADSTS50011/);
    assert.equal(entra.codeRedemptions.length, 1, 'only the first use of the replayed code');
  });

  it('/authorize shows an error page, never a redirect, for an unregistered redirect URI (AADSTS50011) or client (AADSTS700016), escaping what it echoes', async () => {
    entra.signInAs(megan);
    const cca = webApp();
    const hostile = 'https://evil.example/cb?<script>alert(1)</script>';
    const page = await visit((await authorizeUrl(cca, { redirect_uri: hostile })).url);
    assert.equal(page.status, 400);
    assert.equal(page.location, undefined);
    assert.match(page.text, /AADSTS50011: The redirect URI/);
    assert.ok(!page.text.includes('<script>'), 'the echoed redirect URI is escaped');
    const unknownClient = await visit((await authorizeUrl(cca, { client_id: '11111111-2222-3333-4444-555555555555' })).url);
    assert.equal(unknownClient.status, 400);
    assert.match(unknownClient.text, /AADSTS700016/);
    assert.deepEqual(entra.authorizeRequests.map(request => request.outcome), ['AADSTS50011', 'AADSTS700016']);
  });

  it('/authorize sends missing or plain PKCE back to the redirect URI as error=invalid_request with the state', async () => {
    entra.signInAs(megan);
    const cca = webApp();
    const noPkce = new URL((await authorizeUrl(cca)).url);
    noPkce.searchParams.delete('code_challenge');
    noPkce.searchParams.delete('code_challenge_method');
    for (const url of [noPkce.href, (await authorizeUrl(cca, { code_challenge_method: 'plain' })).url]) {
      const answer = await visit(url);
      assert.equal(answer.status, 302);
      assert.equal(`${answer.location!.origin}${answer.location!.pathname}`, redirectUri);
      assert.equal(answer.location!.searchParams.get('error'), 'invalid_request');
      assert.match(answer.location!.searchParams.get('error_description') ?? '', /^AADSTS\d+: /);
      assert.equal(answer.location!.searchParams.get('state'), new URL(url).searchParams.get('state'));
      assert.equal(answer.location!.searchParams.get('code'), null);
    }
    assert.deepEqual(entra.authorizeRequests.map(request => request.hasPkce), [false, true]);
  });

  it('/authorize with nobody signed in: 400 AADSTS50058, or login_required to the redirect URI with prompt=none', async () => {
    const cca = webApp();
    const page = await visit((await authorizeUrl(cca)).url);
    assert.equal(page.status, 400);
    assert.match(page.text, /AADSTS50058/);
    const silent = await visit((await authorizeUrl(cca, { prompt: 'none' })).url);
    assert.equal(silent.status, 302);
    assert.equal(silent.location!.searchParams.get('error'), 'login_required');
    assert.match(silent.location!.searchParams.get('error_description') ?? '', /^AADSTS50058/);
    entra.signInAs(megan);
    assert.equal((await visit((await authorizeUrl(cca)).url)).status, 302);
    entra.signOut();
    assert.equal((await visit((await authorizeUrl(cca)).url)).status, 400);
  });
});
