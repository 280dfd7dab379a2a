import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { GatehouseError } from '../core/errors';

const VERSION = 1;
const NONCE = 12;
const TAG = 16;

/**
 * Seals upstream credentials at rest with AES-256-GCM. The associated data is the owning row's id, so a
 * sealed blob copied onto another row does not open. Layout: version | nonce(12) | ciphertext | tag(16).
 */
export class SecretBox {
  constructor(private readonly key: Buffer) {
    if (key.length !== 32) throw new Error('SecretBox needs a 32-byte key');
  }

  /** Encrypt a secret bound to `aad` (the row id). */
  seal(plaintext: string, aad: string): Buffer {
    const nonce = randomBytes(NONCE);
    const cipher = createCipheriv('aes-256-gcm', this.key, nonce);
    cipher.setAAD(Buffer.from(aad, 'utf8'));
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return Buffer.concat([Buffer.from([VERSION]), nonce, body, cipher.getAuthTag()]);
  }

  /** Decrypt a sealed secret; throws if the key, the row or any byte is wrong. */
  open(sealed: Buffer, aad: string): string {
    if (sealed.length < 1 + NONCE + TAG || sealed[0] !== VERSION) throw unreadable();
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.key, sealed.subarray(1, 1 + NONCE));
      decipher.setAAD(Buffer.from(aad, 'utf8'));
      decipher.setAuthTag(sealed.subarray(sealed.length - TAG));
      return Buffer.concat([decipher.update(sealed.subarray(1 + NONCE, sealed.length - TAG)), decipher.final()]).toString('utf8');
    } catch {
      throw unreadable();
    }
  }
}

const unreadable = () => new GatehouseError('internal', 'a stored secret cannot be decrypted (wrong master key or tampered data)');
