import { createPrivateKey, createPublicKey, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { GatehouseError } from '../core/errors';

/** The installation's Ed25519 signing identity (audit checkpoints, evidence packs). */
export interface Signer {
  /** Public key, base64 of its SPKI DER encoding. */
  readonly publicKey: string;
  /** Ed25519 signature of a UTF-8 message, base64. */
  sign(message: string): string;
}

/** Load `<dataDir>/signing.key` (PKCS#8 PEM, mode 0600), creating it on first use. */
export function loadOrCreateSigningKey(dataDir: string): Signer {
  const file = path.join(dataDir, 'signing.key');
  let key: KeyObject;
  if (existsSync(file)) {
    if (statSync(file).mode & 0o077) throw new GatehouseError('invalid', `${file} is readable by other users; run: chmod 600 ${file}`);
    key = createPrivateKey(readFileSync(file, 'utf8'));
  } else {
    key = generateKeyPairSync('ed25519').privateKey;
    writeFileSync(file, key.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600, flag: 'wx' });
  }
  const publicKey = createPublicKey(key).export({ type: 'spki', format: 'der' }).toString('base64');
  return { publicKey, sign: (message) => sign(null, Buffer.from(message, 'utf8'), key).toString('base64') };
}
