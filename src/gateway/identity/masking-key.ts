import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { GatehouseError } from '../core/errors';
import { assertPrivateFile, createPrivateFileOnce } from './private-file';

/**
 * Load `<dataDir>/masking.key`, the 32-byte HMAC key of the deterministic masking hash (`tok_...`
 * tokens), creating it on first use: random bytes, mode 0600, published atomically so racing processes
 * agree on one key and a crash never leaves a short file. The same key gives the same tokens across
 * sessions and restarts (joins and GROUP BY on masked output line up); deleting it changes every token.
 * A file other users can access, or of the wrong size, is refused with a readable error.
 */
export function loadOrCreateMaskingKey(dataDir: string): Buffer {
  const file = path.join(dataDir, 'masking.key');
  createPrivateFileOnce(file, randomBytes(32));
  assertPrivateFile(file);
  const key = readFileSync(file);
  if (key.length !== 32) throw new GatehouseError('invalid', `${file} is not a Gatehouse masking key (expected 32 bytes, found ${key.length})`);
  return key;
}
