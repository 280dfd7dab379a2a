import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import path from 'node:path';

const root = path.resolve(__dirname, '../..');
const bin = path.join(root, 'bin/gatehouse.mjs');

/** Build the CLI bundle once per test file (what `npm install` does for users). */
export function buildCli(): void {
  const r = spawnSync(process.execPath, [path.join(root, 'scripts/build-cli.mjs')], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`CLI build failed: ${r.stderr}`);
}

/**
 * Run `gatehouse ...` to completion. A command that is still running after `timeoutMs` (say, a `serve`
 * that should have been refused) is killed, so a failing test leaves no process behind.
 */
export function gatehouse(
  args: string[],
  opts: { input?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [bin, ...args], { env: { ...process.env, ...opts.env }, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 60_000);
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.stdin.end(opts.input ?? '');
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? 1, stdout, stderr });
    });
  });
}

/** A running `gatehouse serve` on random ports, with the ports it printed. */
export interface ServeProcess {
  child: ChildProcess;
  pgPort: number;
  consoleUrl: string;
  adminToken: string | null;
  output(): string;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Start `gatehouse serve --pg-port 0 --console-port 0` and wait until it prints its listeners. */
export function startServe(dataDir: string, extra: string[] = []): Promise<ServeProcess> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, 'serve', '--data-dir', dataDir, '--pg-port', '0', '--console-port', '0', '--ssh-port', '0', ...extra], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    const timer = setTimeout(() => reject(new Error(`serve did not start: ${out}\n${err}`)), 20_000);
    child.stderr!.on('data', (d) => (err += d));
    child.stdout!.on('data', (d) => {
      out += d;
      const pg = /postgres\s+\S+:(\d+)/.exec(out);
      const consoleUrl = /console\s+(http:\/\/\S+)/.exec(out);
      if (pg && consoleUrl && /tls sha256/.test(out)) {
        clearTimeout(timer);
        // The token line follows the listener lines in the same write.
        const token = /admin token[^:]*: (\S+)/.exec(out)?.[1] ?? null;
        resolve({
          child,
          pgPort: Number(pg[1]),
          consoleUrl: consoleUrl[1],
          adminToken: token,
          output: () => out + err,
          stop: (signal = 'SIGTERM') =>
            new Promise((r) => {
              if (child.exitCode !== null || child.signalCode !== null) return r(child.exitCode);
              child.once('exit', (code) => r(code));
              child.kill(signal);
            }),
        });
      }
    });
    child.on('exit', (code) => reject(new Error(`serve exited with ${code}: ${out}\n${err}`)));
  });
}
