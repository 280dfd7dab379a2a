import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { GatehouseError } from '../../src/gateway/core/errors';
import { bufferKeyProvider, fileKeyProvider } from '../../src/gateway/identity/key-provider';

const dirs: string[] = [];
const temp = () => {
  const d = mkdtempSync(path.join(os.tmpdir(), 'gh-key-'));
  dirs.push(d);
  return d;
};
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;

describe('fileKeyProvider', () => {
  it('creates master.key with mode 0600 holding 32 random bytes', () => {
    const dir = temp();
    const key = fileKeyProvider(dir).getKey();
    const file = path.join(dir, 'master.key');
    expect(key.length).toBe(32);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readFileSync(file).equals(key)).toBe(true);
    expect(key.equals(Buffer.alloc(32))).toBe(false);
  });

  it('returns the same key on a second call and from a new provider', () => {
    const dir = temp();
    const p = fileKeyProvider(dir);
    const k1 = p.getKey();
    expect(p.getKey().equals(k1)).toBe(true);
    expect(fileKeyProvider(dir).getKey().equals(k1)).toBe(true);
    // Different data dirs get different keys.
    expect(fileKeyProvider(temp()).getKey().equals(k1)).toBe(false);
  });

  it('refuses a 0644 key file with a message telling the operator to chmod 600', () => {
    const dir = temp();
    fileKeyProvider(dir).getKey();
    const file = path.join(dir, 'master.key');
    chmodSync(file, 0o644);
    let err: unknown;
    try {
      fileKeyProvider(dir).getKey();
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(GatehouseError);
    expect((err as GatehouseError).code).toBe('invalid');
    expect((err as Error).message).toContain('chmod 600');
    expect((err as Error).message).toContain(file);
    // Group-readable only is refused too; fixing the mode makes it usable again.
    chmodSync(file, 0o640);
    expect(() => fileKeyProvider(dir).getKey()).toThrow(/chmod 600/);
    chmodSync(file, 0o600);
    expect(fileKeyProvider(dir).getKey().length).toBe(32);
  });

  it('uses a pre-existing 0600 key as is and leaves no temporary files', () => {
    const dir = temp();
    const existing = randomBytes(32);
    writeFileSync(path.join(dir, 'master.key'), existing, { mode: 0o600 });
    expect(fileKeyProvider(dir).getKey().equals(existing)).toBe(true);
    expect(readFileSync(path.join(dir, 'master.key')).equals(existing)).toBe(true);
    const fresh = temp();
    fileKeyProvider(fresh).getKey();
    expect(readdirSync(fresh)).toEqual(['master.key']);
  });

  it('refuses a pre-existing 0600 file that is not 32 bytes', () => {
    const dir = temp();
    writeFileSync(path.join(dir, 'master.key'), randomBytes(16), { mode: 0o600 });
    expect(() => fileKeyProvider(dir).getKey()).toThrow(/expected 32 bytes/);
  });

  it.skipIf(isRoot)('reports an error when the data dir cannot be written', () => {
    const dir = temp();
    chmodSync(dir, 0o500);
    try {
      expect(() => fileKeyProvider(dir).getKey()).toThrow();
    } finally {
      chmodSync(dir, 0o700);
    }
  });
});

describe('bufferKeyProvider', () => {
  it('hands back a 32-byte key as is', () => {
    const key = randomBytes(32);
    expect(bufferKeyProvider(key).getKey()).toBe(key);
  });

  it('rejects keys of the wrong length', () => {
    for (const n of [0, 1, 16, 31, 33, 64]) expect(() => bufferKeyProvider(randomBytes(n)), `len ${n}`).toThrow(/32 bytes/);
  });
});
