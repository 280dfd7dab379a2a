import { mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/**
 * Where Gatehouse keeps its state (store, master key, admin token hash, TLS pair): the explicit dir
 * (--data-dir), else $GATEHOUSE_DATA_DIR, else ~/.gatehouse. A leading `~` is expanded (values from
 * service files and .env files never pass through a shell). Returns an absolute path; creates nothing.
 */
export function resolveDataDir(explicit?: string): string {
  const chosen = explicit || process.env.GATEHOUSE_DATA_DIR || path.join(os.homedir(), '.gatehouse');
  const expanded = chosen === '~' || chosen.startsWith('~/') ? path.join(os.homedir(), chosen.slice(1)) : chosen;
  return path.resolve(expanded);
}

/**
 * Create the data dir and its `run/` subdir with mode 0700 if they are missing (an existing dir keeps
 * its mode; the secret files inside are 0600 on their own), and return the dir. Call at start-up,
 * before opening the store or reading keys.
 */
export function ensureDataDir(dir: string): string {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  mkdirSync(path.join(dir, 'run'), { recursive: true, mode: 0o700 });
  return dir;
}
