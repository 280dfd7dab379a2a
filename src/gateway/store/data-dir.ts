import { mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** The data dir: the explicit one, else $GATEHOUSE_DATA_DIR, else ~/.gatehouse. */
export function resolveDataDir(explicit?: string): string {
  return path.resolve(explicit || process.env.GATEHOUSE_DATA_DIR || path.join(os.homedir(), '.gatehouse'));
}

/** Create the data dir (mode 0700) if needed and return it. */
export function ensureDataDir(dir: string): string {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  mkdirSync(path.join(dir, 'run'), { recursive: true, mode: 0o700 });
  return dir;
}
