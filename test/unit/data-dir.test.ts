import { mkdtempSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ensureDataDir, resolveDataDir } from '../../src/gateway/store/data-dir';

const savedEnv = process.env.GATEHOUSE_DATA_DIR;
const dirs: string[] = [];
afterEach(() => {
  if (savedEnv === undefined) delete process.env.GATEHOUSE_DATA_DIR;
  else process.env.GATEHOUSE_DATA_DIR = savedEnv;
  dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true }));
});

describe('data dir', () => {
  it('is the explicit dir, else $GATEHOUSE_DATA_DIR, else ~/.gatehouse, always absolute', () => {
    process.env.GATEHOUSE_DATA_DIR = '/srv/from-env';
    expect(resolveDataDir('/srv/explicit')).toBe('/srv/explicit');
    expect(resolveDataDir('relative/dir')).toBe(path.resolve('relative/dir'));
    expect(resolveDataDir()).toBe('/srv/from-env');
    process.env.GATEHOUSE_DATA_DIR = '';
    expect(resolveDataDir()).toBe(path.join(os.homedir(), '.gatehouse'));
    delete process.env.GATEHOUSE_DATA_DIR;
    expect(resolveDataDir('')).toBe(path.join(os.homedir(), '.gatehouse'));
  });

  it('expands a leading ~ (service files do not go through a shell)', () => {
    process.env.GATEHOUSE_DATA_DIR = '~/gh-data';
    expect(resolveDataDir()).toBe(path.join(os.homedir(), 'gh-data'));
    expect(resolveDataDir('~')).toBe(os.homedir());
    expect(resolveDataDir('/a/~b')).toBe('/a/~b');
  });

  it('is created with mode 0700, with its run/ dir, and creating it again is harmless', () => {
    const parent = mkdtempSync(path.join(os.tmpdir(), 'gh-dd-'));
    dirs.push(parent);
    const dir = path.join(parent, 'nested', 'data');
    expect(ensureDataDir(dir)).toBe(dir);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    expect(statSync(path.join(dir, 'run')).mode & 0o777).toBe(0o700);
    expect(ensureDataDir(dir)).toBe(dir);
  });
});
