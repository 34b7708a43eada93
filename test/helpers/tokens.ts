/** Unsigned JWT-shaped test tokens: what the tests' fake identity provider issues. */
import { rememberCredential } from './leakWatch';

export const FAKE_ISSUER = 'https://login.fake.test/';

export interface FakeTokenClaims {
  exp?: number;
  tid?: string;
  scp?: string;
  upn?: string;
  name?: string;
  oid?: string;
  [key: string]: unknown;
}

export function makeFakeToken(claims: FakeTokenClaims): string {
  const encode = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const token = `${encode({ alg: 'none', typ: 'JWT' })}.${encode({ iss: FAKE_ISSUER, ...claims })}.fake-signature`;
  rememberCredential(token);
  return token;
}

export function readFakeToken(token: string): FakeTokenClaims | undefined {
  try {
    return JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
}
