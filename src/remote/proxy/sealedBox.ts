/**
 * Encryption at rest for everything the authorization server stores (Entra token caches,
 * client secrets, sessions): AES-256-GCM with a key ring. The first key seals; every key opens,
 * so a key is rotated by putting the new one first and dropping the old one once its data has
 * expired. Each sealed value is bound to its purpose and key (`aad`), so one entry cannot be
 * passed off as another.
 */
import { createCipheriv, createDecipheriv, createHash, createHmac, randomBytes } from 'node:crypto';

const IV_BYTES = 12;
const TAG_BYTES = 16;
const FORMAT = 'v1';

export class SealedBox {
  private readonly keys: ReadonlyArray<{ id: string; key: Buffer }>;

  /** `keys`: 32-byte keys, newest first. */
  constructor(keys: readonly Buffer[]) {
    if (keys.length === 0 || keys.some(key => key.length !== 32)) {
      throw new Error('SealedBox needs one or more 32-byte keys.');
    }
    this.keys = keys.map(key => ({ id: createHash('sha256').update(key).digest('base64url').slice(0, 8), key }));
  }

  seal(plaintext: string, aad: string): string {
    const { id, key } = this.keys[0];
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', key, iv);
    cipher.setAAD(Buffer.from(aad, 'utf8'));
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return [FORMAT, id, Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64url')].join('.');
  }

  /** The plaintext, or undefined when the value was not sealed by a key of the ring for this `aad`, or was altered. */
  open(sealed: string, aad: string): string | undefined {
    const [format, id, data] = sealed.split('.');
    const key = this.keys.find(candidate => candidate.id === id)?.key;
    if (format !== FORMAT || !key || !data) {
      return undefined;
    }
    const bytes = Buffer.from(data, 'base64url');
    if (bytes.length < IV_BYTES + TAG_BYTES) {
      return undefined;
    }
    try {
      const decipher = createDecipheriv('aes-256-gcm', key, bytes.subarray(0, IV_BYTES));
      decipher.setAAD(Buffer.from(aad, 'utf8'));
      decipher.setAuthTag(bytes.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
      return Buffer.concat([decipher.update(bytes.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]).toString('utf8');
    } catch {
      return undefined;
    }
  }

  /** A key for another purpose (CSRF, cookies), derived from the newest key so no second secret is needed. */
  derive(purpose: string): Buffer {
    return createHmac('sha256', this.keys[0].key).update(`entra-mcp:${purpose}`).digest();
  }
}

/** What stores use as the key of a secret value (codes, refresh tokens): never the value itself. */
export function digest(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('base64url');
}
