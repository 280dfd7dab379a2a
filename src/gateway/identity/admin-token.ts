import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/**
 * The console's admin token. Only its SHA-256 is kept (`<dataDir>/admin.token.sha256`, mode 0600); the
 * token itself exists once, when it is created and printed, so a copy of the data dir does not hand
 * out console access.
 */
export function loadOrCreateAdminToken(dataDir: string): { hash: Buffer; token: string | null } {
  const file = path.join(dataDir, 'admin.token.sha256');
  if (existsSync(file)) return { hash: Buffer.from(readFileSync(file, 'utf8').trim(), 'hex'), token: null };
  const token = 'gha_' + randomBytes(32).toString('base64url');
  const hash = sha256(token);
  writeFileSync(file, hash.toString('hex') + '\n', { mode: 0o600, flag: 'wx' });
  return { hash, token };
}

/** Whether `candidate` is the token whose hash is given (timing-safe). */
export function tokenMatches(hash: Buffer, candidate: string): boolean {
  const h = sha256(candidate);
  return h.length === hash.length && timingSafeEqual(h, hash);
}

/** A fresh random token (per-run CLI token, tests). */
export function randomToken(prefix: string): string {
  return prefix + randomBytes(32).toString('base64url');
}

function sha256(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}
