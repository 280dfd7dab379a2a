import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { safeStorage } from 'electron';

/**
 * The desktop app's master key: 32 random bytes encrypted with the OS keychain (safeStorage) in
 * `<userData>/master.key.enc`. The key itself is only ever in memory.
 */
export function loadOrCreateMasterKey(userData: string): Buffer {
  if (!safeStorage.isEncryptionAvailable()) {
    throw new Error('the OS keychain is not available, so Gatehouse cannot protect stored credentials; use `gatehouse serve` with a key file instead');
  }
  const file = path.join(userData, 'master.key.enc');
  if (existsSync(file)) return Buffer.from(safeStorage.decryptString(readFileSync(file)), 'hex');
  const key = randomBytes(32);
  writeFileSync(file, safeStorage.encryptString(key.toString('hex')), { mode: 0o600, flag: 'wx' });
  return key;
}
