import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { GatehouseError } from '../core/errors';
import { assertPrivateFile, createPrivateFileOnce } from './private-file';

/** Where the master key that seals stored credentials (identity/secret-box) comes from. */
export interface KeyProvider {
  /** The 32-byte AES-256 key. Throws with an operator-readable message when it cannot be had. */
  getKey(): Buffer;
}

/**
 * The headless server's key: 32 random bytes in `<dataDir>/master.key`, created on first use with mode
 * 0600 (atomically: racing processes agree on one key, and a crash never leaves a short file). A key file
 * that group or others can access is refused with the chmod that fixes it, rather than used. The key is
 * read once per provider and then cached.
 */
export function fileKeyProvider(dataDir: string): KeyProvider {
  const file = path.join(dataDir, 'master.key');
  let key: Buffer | null = null;
  return {
    getKey() {
      if (key) return key;
      createPrivateFileOnce(file, randomBytes(32));
      assertPrivateFile(file);
      const data = readFileSync(file);
      if (data.length !== 32) {
        throw new GatehouseError('invalid', `${file} is not a Gatehouse master key (expected 32 bytes, found ${data.length})`);
      }
      key = data;
      return key;
    },
  };
}

/** A key handed over by the host (the desktop app decrypts it with the OS keychain via safeStorage). */
export function bufferKeyProvider(key: Buffer): KeyProvider {
  if (key.length !== 32) throw new Error('master key must be 32 bytes');
  return { getKey: () => key };
}
