import { existsSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { GatehouseError } from '../core/errors';
import { createPrivateFileOnce, replacePrivateFile } from '../identity/private-file';

/**
 * The files a running gateway keeps in `<dataDir>/run/`:
 * - `gateway.pid`: one gateway per data dir (two would share the store and the recording journal);
 * - `server.json`: where its console listens, so the CLI can go through it;
 * - `cli.token`: a per-run bearer token; reading it needs filesystem access to the data dir, which is
 *   what authorises the local CLI.
 */

/** What `server.json` holds. */
export interface ServerRunInfo {
  pid: number;
  consoleUrl: string;
  pgPort: number;
}

/** Lock files this process holds. */
const heldHere = new Set<string>();

const runDir = (dataDir: string) => path.join(dataDir, 'run');
const pidFile = (dataDir: string) => path.join(runDir(dataDir), 'gateway.pid');
const serverFile = (dataDir: string) => path.join(runDir(dataDir), 'server.json');
const tokenFile = (dataDir: string) => path.join(runDir(dataDir), 'cli.token');

/** A held claim on a data dir; release it when the gateway stops. */
export interface RunLock {
  release(): void;
}

/**
 * Claim the data dir for this process's gateway. Fails with a `conflict` error naming the pid when a live
 * process already holds it; a claim left by a process that is gone (crash, SIGKILL) is taken over.
 * Call before opening the store.
 */
export function acquireRunLock(dataDir: string): RunLock {
  const file = pidFile(dataDir);
  for (let attempt = 0; attempt < 2; attempt++) {
    if (createPrivateFileOnce(file, `${process.pid}\n`)) {
      heldHere.add(file);
      return {
        release() {
          if (!heldHere.delete(file)) return;
          if (readPid(file) === process.pid) rmSync(file, { force: true });
        },
      };
    }
    const holder = readPid(file);
    // Our own pid in a file this process did not write is a leftover from an earlier life of the same pid
    // (containers restart as pid 1).
    const held = holder !== null && (holder === process.pid ? heldHere.has(file) : isAlive(holder));
    if (held) {
      throw new GatehouseError(
        'conflict',
        `another Gatehouse gateway (pid ${holder}) is running for data dir ${dataDir}; stop it first (if no such process is a gateway, delete ${file})`,
      );
    }
    rmSync(file, { force: true });
  }
  throw new GatehouseError('conflict', `could not claim data dir ${dataDir}: ${file} keeps reappearing`);
}

/** The pid of the gateway running for this data dir, or null when none runs. */
export function runningGatewayPid(dataDir: string): number | null {
  const pid = readPid(pidFile(dataDir));
  return pid !== null && isAlive(pid) ? pid : null;
}

/** Publish where the console listens and a fresh per-run CLI token (both 0600, written atomically). */
export function writeServerFiles(dataDir: string, info: ServerRunInfo, cliToken: string): void {
  replacePrivateFile(tokenFile(dataDir), cliToken);
  replacePrivateFile(serverFile(dataDir), JSON.stringify(info, null, 2) + '\n');
}

/** Remove `server.json` and `cli.token` (at stop). */
export function removeServerFiles(dataDir: string): void {
  rmSync(serverFile(dataDir), { force: true });
  rmSync(tokenFile(dataDir), { force: true });
}

/**
 * The running server's `server.json` and CLI token, when both exist and the pid in them is alive;
 * null otherwise (no server, or files left by a crash). The caller still checks that it answers.
 */
export function readServerFiles(dataDir: string): { info: ServerRunInfo; cliToken: string } | null {
  if (!existsSync(serverFile(dataDir)) || !existsSync(tokenFile(dataDir))) return null;
  try {
    const info = JSON.parse(readFileSync(serverFile(dataDir), 'utf8')) as ServerRunInfo;
    if (typeof info.consoleUrl !== 'string' || !Number.isInteger(info.pid) || !isAlive(info.pid)) return null;
    return { info, cliToken: readFileSync(tokenFile(dataDir), 'utf8').trim() };
  } catch {
    return null;
  }
}

function readPid(file: string): number | null {
  try {
    const pid = Number(readFileSync(file, 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: the process exists but belongs to another user.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
