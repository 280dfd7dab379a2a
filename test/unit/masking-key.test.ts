import { chmodSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadOrCreateMaskingKey } from '../../src/gateway/identity/masking-key';

const dirs: string[] = [];
const temp = () => {
  const d = mkdtempSync(path.join(os.tmpdir(), 'gh-mask-key-'));
  dirs.push(d);
  return d;
};
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('loadOrCreateMaskingKey', () => {
  it('creates masking.key: 32 random bytes, mode 0600, no temporary files left', () => {
    const dir = temp();
    const key = loadOrCreateMaskingKey(dir);
    expect(key.length).toBe(32);
    expect(statSync(path.join(dir, 'masking.key')).mode & 0o777).toBe(0o600);
    expect(readdirSync(dir)).toEqual(['masking.key']);
  });

  it('returns the same key on later loads, a different one in another data dir', () => {
    const dir = temp();
    const k1 = loadOrCreateMaskingKey(dir);
    expect(loadOrCreateMaskingKey(dir).equals(k1)).toBe(true);
    expect(loadOrCreateMaskingKey(temp()).equals(k1)).toBe(false);
  });

  it('refuses a key file others can read, and one of the wrong size', () => {
    const dir = temp();
    loadOrCreateMaskingKey(dir);
    chmodSync(path.join(dir, 'masking.key'), 0o644);
    expect(() => loadOrCreateMaskingKey(dir)).toThrow(/chmod 600/);
    const other = temp();
    writeFileSync(path.join(other, 'masking.key'), Buffer.alloc(16), { mode: 0o600 });
    expect(() => loadOrCreateMaskingKey(other)).toThrow(/expected 32 bytes/);
  });
});
