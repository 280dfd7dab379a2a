import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { safeStorage } from 'electron';

const KEY_BYTES = 32;

/**
 * The desktop app's master key (it seals stored upstream credentials): 32 random bytes, kept encrypted by
 * the OS keychain (safeStorage) in `<userData>/master.key.enc`, created on first start. Called once at
 * start; the plain key only ever lives in memory and goes to the gateway process over its message port.
 */
export function loadOrCreateMasterKey(userData: string): Buffer {
  if (!safeStorage.isEncryptionAvailable()) {
    throw new Error('The OS keychain is not available, so Gatehouse cannot protect stored credentials. Use `gatehouse serve` (key file in its data dir) instead.');
  }
  const file = path.join(userData, 'master.key.enc');
  if (existsSync(file)) {
    let key: Buffer;
    try {
      key = Buffer.from(safeStorage.decryptString(readFileSync(file)), 'hex');
    } catch {
      throw new Error(`${file} cannot be decrypted with this user's OS keychain (was it copied from another account or machine?).`);
    }
    if (key.length !== KEY_BYTES) throw new Error(`${file} does not hold a Gatehouse master key.`);
    return key;
  }
  const key = randomBytes(KEY_BYTES);
  writeFileSync(file, safeStorage.encryptString(key.toString('hex')), { mode: 0o600, flag: 'wx' });
  return key;
}

/**
 * On Linux without a keyring service, safeStorage falls back to a hard-coded password ("basic_text"):
 * the key file is then obfuscated, not protected. Returns a warning to log in that case.
 */
export function keychainWarning(): string | null {
  if (process.platform !== 'linux') return null;
  return safeStorage.getSelectedStorageBackend() === 'basic_text'
    ? 'no OS keyring (gnome-libsecret/kwallet) was found: the master key is only obfuscated on disk'
    : null;
}
