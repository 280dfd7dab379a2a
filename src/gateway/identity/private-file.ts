import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, linkSync, openSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';
import path from 'node:path';
import { GatehouseError } from '../core/errors';

/**
 * Create `file` with mode 0600 holding exactly `data`, unless it already exists. Returns true when this
 * call created it, false when it was there already (left untouched).
 *
 * Why not just open(file, 'wx') and write: between that open and the write, another process (or a
 * crash) sees an empty file. Here the content is written and fsynced to a private temporary file
 * (created 'wx', 0600), then published with link(2), which fails with EEXIST instead of replacing, so
 * the file appears complete or not at all, and of two racing creators exactly one wins. The directory
 * is fsynced too: a key must not vanish after data sealed with it was committed.
 */
export function createPrivateFileOnce(file: string, data: string | Buffer): boolean {
  const tmp = writeTemp(file, data);
  try {
    linkSync(tmp, file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  } finally {
    unlinkSync(tmp);
  }
  syncDir(path.dirname(file));
  return true;
}

/** Replace `file` (or create it) atomically with mode 0600 holding `data` (rotation of a secret). */
export function replacePrivateFile(file: string, data: string | Buffer): void {
  const tmp = writeTemp(file, data);
  try {
    renameSync(tmp, file);
  } catch (err) {
    unlinkSync(tmp);
    throw err;
  }
  syncDir(path.dirname(file));
}

/**
 * Refuse a secret file that users other than its owner could read or write (any group/other bit), with
 * the command that fixes it. Called before every read of a key or token file.
 */
export function assertPrivateFile(file: string): void {
  const mode = statSync(file).mode & 0o777;
  if (mode & 0o077) {
    throw new GatehouseError('invalid', `${file} is accessible to other users (mode ${mode.toString(8).padStart(4, '0')}); run: chmod 600 ${file}`);
  }
}

function writeTemp(file: string, data: string | Buffer): string {
  const tmp = `${file}.${randomBytes(6).toString('hex')}.tmp`;
  const fd = openSync(tmp, 'wx', 0o600);
  try {
    writeSync(fd, typeof data === 'string' ? Buffer.from(data, 'utf8') : data);
    fsyncSync(fd);
  } catch (err) {
    closeSync(fd);
    unlinkSync(tmp);
    throw err;
  }
  closeSync(fd);
  return tmp;
}

function syncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
