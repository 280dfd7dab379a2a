import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { assertPrivateFile, createPrivateFileOnce, replacePrivateFile } from '../../src/gateway/identity/private-file';

const dirs: string[] = [];
const temp = () => {
  const d = mkdtempSync(path.join(os.tmpdir(), 'gh-pf-'));
  dirs.push(d);
  return d;
};
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

describe('private files', () => {
  it('createPrivateFileOnce creates with mode 0600 once and never replaces', () => {
    const dir = temp();
    const file = path.join(dir, 'secret');
    expect(createPrivateFileOnce(file, Buffer.from([1, 2, 3]))).toBe(true);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(createPrivateFileOnce(file, 'other')).toBe(false);
    expect(readFileSync(file)).toEqual(Buffer.from([1, 2, 3]));
    expect(readdirSync(dir)).toEqual(['secret']);
  });

  it('createPrivateFileOnce keeps a file someone else created, whatever its content', () => {
    const dir = temp();
    const file = path.join(dir, 'secret');
    writeFileSync(file, 'theirs', { mode: 0o644 });
    expect(createPrivateFileOnce(file, 'mine')).toBe(false);
    expect(readFileSync(file, 'utf8')).toBe('theirs');
    expect(readdirSync(dir)).toEqual(['secret']);
  });

  it('replacePrivateFile swaps the content in and ends with mode 0600', () => {
    const dir = temp();
    const file = path.join(dir, 'secret');
    writeFileSync(file, 'old', { mode: 0o644 });
    replacePrivateFile(file, 'new');
    expect(readFileSync(file, 'utf8')).toBe('new');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readdirSync(dir)).toEqual(['secret']);
  });

  it('assertPrivateFile accepts 0600 and 0400, and refuses any group or other bit with the fix', () => {
    const dir = temp();
    const file = path.join(dir, 'secret');
    writeFileSync(file, 'x', { mode: 0o600 });
    expect(() => assertPrivateFile(file)).not.toThrow();
    chmodSync(file, 0o400);
    expect(() => assertPrivateFile(file)).not.toThrow();
    for (const mode of [0o644, 0o640, 0o604, 0o620, 0o602, 0o610, 0o601]) {
      chmodSync(file, mode);
      expect(() => assertPrivateFile(file), mode.toString(8)).toThrow(`run: chmod 600 ${file}`);
    }
  });

  it('reports a missing directory instead of creating it elsewhere', () => {
    expect(() => createPrivateFileOnce(path.join(temp(), 'no', 'such', 'dir', 'f'), 'x')).toThrow(/ENOENT/);
  });
});
