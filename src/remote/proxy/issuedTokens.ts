/**
 * The access tokens the server issues in proxy mode: JWTs signed with ENTRA_MCP_SIGNING_KEY
 * (ES256 or RS256), 10 minutes, issuer = the server's origin, audience = the MCP endpoint,
 * carrying the user's oid, tid and app roles. The public key is published at /jwks so replicas
 * and gateways can verify them too.
 */
import { createPrivateKey, createPublicKey, randomUUID } from 'node:crypto';
import { JWK, SignJWT, calculateJwkThumbprint, errors, exportJWK, importJWK, importPKCS8, jwtVerify } from 'jose';
import { AuthFailure, Caller, stringClaim } from '../tokenValidator';

/** Who a proxy session belongs to, from the Entra id token at sign-in. */
export interface ProxyUser {
  readonly oid: string;
  readonly tid: string;
  readonly upn?: string;
  readonly name?: string;
  readonly roles: readonly string[];
}

type SigningKey = Awaited<ReturnType<typeof importPKCS8>>;
type VerifyingKey = Awaited<ReturnType<typeof importJWK>>;

export const PROXY_SCOPE = 'mcp:tools';
export const ACCESS_TOKEN_LIFETIME_SECONDS = 600;

export class IssuedTokens {
  readonly ready = true;

  private constructor(
    private readonly key: SigningKey,
    private readonly publicKey: VerifyingKey,
    private readonly alg: 'ES256' | 'RS256',
    readonly jwk: JWK,
    readonly issuer: string,
    private readonly audience: string,
  ) {}

  static async create(signingKeyPem: string, issuer: string, audience: string): Promise<IssuedTokens> {
    const alg = algorithmOf(signingKeyPem);
    const key = await importPKCS8(signingKeyPem, alg);
    const publicJwk = await exportJWK(createPublicKey(createPrivateKey(signingKeyPem)));
    const jwk: JWK = { ...publicJwk, kid: await calculateJwkThumbprint(publicJwk), alg, use: 'sig' };
    return new IssuedTokens(key, await importJWK(jwk, alg), alg, jwk, issuer, audience);
  }

  /** What the protected resource metadata names as authorization server: this server. */
  get authorizationServer(): string {
    return this.issuer;
  }

  get scope(): string {
    return PROXY_SCOPE;
  }

  async issue(user: ProxyUser, clientId: string): Promise<string> {
    return new SignJWT({
      oid: user.oid, tid: user.tid, upn: user.upn, name: user.name, roles: [...user.roles], scope: PROXY_SCOPE, client_id: clientId,
    })
      .setProtectedHeader({ alg: this.alg, kid: this.jwk.kid, typ: 'at+jwt' })
      .setIssuer(this.issuer).setAudience(this.audience).setSubject(user.oid)
      .setIssuedAt().setExpirationTime(`${ACCESS_TOKEN_LIFETIME_SECONDS}s`).setJti(randomUUID())
      .sign(this.key);
  }

  /** A token this server issued, for this endpoint, in its lifetime; otherwise an AuthFailure saying to sign in again. */
  async validate(token: string): Promise<Caller> {
    try {
      const { payload } = await jwtVerify(token, this.publicKey, {
        algorithms: [this.alg], issuer: this.issuer, audience: this.audience, typ: 'at+jwt', clockTolerance: 60, requiredClaims: ['exp', 'oid', 'tid'],
      });
      return {
        oid: String(payload.oid), tid: String(payload.tid), upn: stringClaim(payload.upn), name: stringClaim(payload.name),
        roles: Array.isArray(payload.roles) ? payload.roles.filter((role): role is string => typeof role === 'string') : [],
        scopes: [PROXY_SCOPE], clientApp: stringClaim(payload.client_id), expiresAt: Number(payload.exp),
      };
    } catch (error) {
      throw new AuthFailure(401, 'invalid_token', error instanceof errors.JWTExpired
        ? 'The access token has expired: your client should refresh it (or sign in again).'
        : 'The access token was not issued by this server for this endpoint. Sign in again.', error instanceof errors.JWTClaimValidationFailed ? error.claim : 'token');
    }
  }
}

function algorithmOf(pem: string): 'ES256' | 'RS256' {
  const key = createPrivateKey(pem);
  if (key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1') {
    return 'ES256';
  }
  if (key.asymmetricKeyType === 'rsa' && (key.asymmetricKeyDetails?.modulusLength ?? 0) >= 2048) {
    return 'RS256';
  }
  throw new Error('ENTRA_MCP_SIGNING_KEY must be a P-256 EC key (ES256) or an RSA key of 2048 bits or more (RS256).');
}
