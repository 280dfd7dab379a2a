import { randomBytes } from 'node:crypto';
import { closeSync, openSync, readFileSync, statSync, writeSync } from 'node:fs';
import path from 'node:path';
import { GatehouseError } from '../core/errors';

/** Where the master key that seals stored credentials comes from. */
export interface KeyProvider {
  getKey(): Buffer;
}

/**
 * The headless server's key: 32 random bytes in `<dataDir>/master.key`, created on first use with mode
 * 0600. A key file readable by group or others is refused rather than used.
 */
export function fileKeyProvider(dataDir: string): KeyProvider {
  const file = path.join(dataDir, 'master.key');
  let key: Buffer | null = null;
  return {
    getKey() {
      if (key) return key;
      try {
        const fd = openSync(file, 'wx', 0o600);
        try {
          writeSync(fd, randomBytes(32));
        } finally {
          closeSync(fd);
        }
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
      const mode = statSync(file).mode & 0o777;
      if (mode & 0o077) {
        throw new GatehouseError('invalid', `${file} is readable by other users (mode ${mode.toString(8)}); run: chmod 600 ${file}`);
      }
      const data = readFileSync(file);
      if (data.length !== 32) throw new GatehouseError('invalid', `${file} is not a Gatehouse master key (expected 32 bytes)`);
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
