import { createHash } from 'node:crypto';
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { GatehouseError } from '../../src/gateway/core/errors';
import { loadOrCreateAdminToken, randomToken, rotateAdminToken, tokenMatches, verifyAdminToken } from '../../src/gateway/identity/admin-token';
import { generateAgentSecret } from '../../src/gateway/identity/agent-secret';

const dirs: string[] = [];
const temp = () => {
  const d = mkdtempSync(path.join(os.tmpdir(), 'gh-admin-'));
  dirs.push(d);
  return d;
};
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

const TOKEN = /^gha_[A-Za-z0-9_-]{43}$/;

describe('admin token', () => {
  it('is created once, returned only then, and only its SHA-256 is on disk (mode 0600)', () => {
    const dir = temp();
    const first = loadOrCreateAdminToken(dir);
    expect(first.created).toBe(true);
    expect(first.token).toMatch(TOKEN);
    const file = path.join(dir, 'admin.token.sha256');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const onDisk = readFileSync(file, 'utf8');
    expect(onDisk).toBe(createHash('sha256').update(first.token!).digest('hex') + '\n');
    expect(onDisk).not.toContain(first.token!);
    // No temporary files left behind.
    expect(readdirSync(dir)).toEqual(['admin.token.sha256']);

    const second = loadOrCreateAdminToken(dir);
    expect(second).toMatchObject({ created: false, token: null });
    expect(second.hash.equals(first.hash)).toBe(true);
    expect(readFileSync(file, 'utf8')).toBe(onDisk);
  });

  it('verifies only the exact token', () => {
    const dir = temp();
    const { token } = loadOrCreateAdminToken(dir);
    const { hash } = loadOrCreateAdminToken(dir);
    expect(verifyAdminToken(hash, token!)).toBe(true);
    for (const wrong of ['', token + 'x', token!.slice(0, -1), token!.toUpperCase(), ` ${token}`, randomToken('gha_')]) {
      expect(verifyAdminToken(hash, wrong), JSON.stringify(wrong)).toBe(false);
    }
    // The old name still works for existing callers.
    expect(tokenMatches(hash, token!)).toBe(true);
    // A hash of the wrong length never matches (and does not throw).
    expect(verifyAdminToken(Buffer.alloc(0), token!)).toBe(false);
  });

  it('rotation replaces the token: the old one stops working, the new one is shown once', () => {
    const dir = temp();
    const first = loadOrCreateAdminToken(dir);
    const rotated = rotateAdminToken(dir);
    expect(rotated.created).toBe(true);
    expect(rotated.token).toMatch(TOKEN);
    expect(rotated.token).not.toBe(first.token);
    const loaded = loadOrCreateAdminToken(dir);
    expect(loaded.created).toBe(false);
    expect(verifyAdminToken(loaded.hash, rotated.token!)).toBe(true);
    expect(verifyAdminToken(loaded.hash, first.token!)).toBe(false);
    expect(statSync(path.join(dir, 'admin.token.sha256')).mode & 0o777).toBe(0o600);
    expect(readdirSync(dir)).toEqual(['admin.token.sha256']);
  });

  it('refuses a damaged hash file or one others can write, saying what to do', () => {
    const dir = temp();
    const file = path.join(dir, 'admin.token.sha256');
    writeFileSync(file, 'not a hash\n', { mode: 0o600 });
    const err = (() => {
      try {
        loadOrCreateAdminToken(dir);
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(GatehouseError);
    expect((err as Error).message).toMatch(/delete it and restart/);

    rmSync(file);
    loadOrCreateAdminToken(dir);
    chmodSync(file, 0o666);
    expect(() => loadOrCreateAdminToken(dir)).toThrow(/chmod 600/);
  });

  it('different data dirs get different tokens', () => {
    expect(loadOrCreateAdminToken(temp()).token).not.toBe(loadOrCreateAdminToken(temp()).token);
  });
});

describe('agent secret', () => {
  it('is ghs_ + 32 random bytes (base64url), different every time', () => {
    const secrets = new Set(Array.from({ length: 100 }, generateAgentSecret));
    expect(secrets.size).toBe(100);
    for (const s of secrets) {
      expect(s).toMatch(/^ghs_[A-Za-z0-9_-]{43}$/);
      expect(Buffer.from(s.slice(4), 'base64url')).toHaveLength(32);
    }
  });
});
