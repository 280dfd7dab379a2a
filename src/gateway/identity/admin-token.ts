import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { GatehouseError } from '../core/errors';
import { assertPrivateFile, createPrivateFileOnce, replacePrivateFile } from './private-file';

/**
 * The console's admin token.
 *
 * Only the token's SHA-256 is stored, as hex in `<dataDir>/admin.token.sha256` (mode 0600). The token
 * itself exists once, in the return value of the call that creates it, for the server to print; a copy
 * of the data dir therefore does not grant console access. A lost token is replaced with
 * `rotateAdminToken` (or by deleting the file: the next start creates and prints a new one).
 *
 * Flow: at start `const admin = loadOrCreateAdminToken(dir)`; print `admin.token` when `admin.created`;
 * per request `verifyAdminToken(admin.hash, presented)`.
 */
export interface AdminToken {
  /** SHA-256 of the token; what verifyAdminToken checks against. */
  hash: Buffer;
  /** The token, only in the call that created it (null afterwards: it is not stored). */
  token: string | null;
  /** Whether this call created the token. */
  created: boolean;
}

/** Load the admin token's hash from the data dir, creating a new token (returned once) on first run. */
export function loadOrCreateAdminToken(dataDir: string): AdminToken {
  const file = tokenFile(dataDir);
  const token = randomToken('gha_');
  const hash = sha256(token);
  if (createPrivateFileOnce(file, hash.toString('hex') + '\n')) return { hash, token, created: true };
  // Whoever can write this file can choose the token: same rule as for keys.
  assertPrivateFile(file);
  return { hash: readHash(file), token: null, created: false };
}

/** Replace the admin token with a new one (the old one stops working) and return it; shown once. */
export function rotateAdminToken(dataDir: string): AdminToken {
  const token = randomToken('gha_');
  const hash = sha256(token);
  replacePrivateFile(tokenFile(dataDir), hash.toString('hex') + '\n');
  return { hash, token, created: true };
}

/** Whether `candidate` is the admin token whose SHA-256 is `hash`. Timing-safe; call per request. */
export function verifyAdminToken(hash: Buffer, candidate: string): boolean {
  const h = sha256(candidate);
  return hash.length === h.length && timingSafeEqual(h, hash);
}

/** @deprecated Same as verifyAdminToken (kept for existing callers). */
export const tokenMatches = verifyAdminToken;

/** A fresh random token: `prefix` + 32 random bytes, base64url (per-run CLI token, tests). */
export function randomToken(prefix: string): string {
  return prefix + randomBytes(32).toString('base64url');
}

const tokenFile = (dataDir: string) => path.join(dataDir, 'admin.token.sha256');

function readHash(file: string): Buffer {
  const text = readFileSync(file, 'utf8').trim();
  // A damaged file must not turn into "no token matches" silently: say how to get a working token back.
  if (!/^[0-9a-f]{64}$/i.test(text)) {
    throw new GatehouseError('invalid', `${file} does not hold an admin token hash; delete it and restart to create a new token`);
  }
  return Buffer.from(text, 'hex');
}

function sha256(s: string): Buffer {
  return createHash('sha256').update(s, 'utf8').digest();
}
