import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { build } from 'esbuild';

const root = path.resolve(__dirname, '../..');

/**
 * Bundle test/helpers/store-child.ts (and the real Store it imports) into a temporary .mjs that plain
 * `node` can run. better-sqlite3 stays external, imported from this checkout by absolute path.
 * Returns the bundle's path; call once per test file.
 */
export async function buildStoreChild(outDir = mkdtempSync(path.join(os.tmpdir(), 'gh-store-child-'))): Promise<string> {
  const outfile = path.join(outDir, 'store-child.mjs');
  const sqlite = createRequire(path.join(root, 'package.json')).resolve('better-sqlite3');
  await build({
    absWorkingDir: root,
    entryPoints: ['test/helpers/store-child.ts'],
    outfile,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'esm',
    logLevel: 'warning',
    plugins: [
      {
        name: 'external-better-sqlite3',
        setup(b) {
          b.onResolve({ filter: /^better-sqlite3$/ }, () => ({ path: sqlite, external: true }));
        },
      },
    ],
  });
  return outfile;
}

/** A running child: its process, and a promise for the first stdout line matching `pattern`. */
export interface StoreChild {
  child: ChildProcess;
  output(): string;
  waitFor(pattern: RegExp): Promise<RegExpExecArray>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Start `node <bundle> <args...>`. The caller kills it (or lets it exit). */
export function startStoreChild(bundle: string, args: string[]): StoreChild {
  const child = spawn(process.execPath, [bundle, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const waiters: { pattern: RegExp; resolve: (m: RegExpExecArray) => void }[] = [];
  const check = () => {
    for (const w of [...waiters]) {
      const m = w.pattern.exec(out);
      if (m) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(m);
      }
    }
  };
  child.stdout!.on('data', (d) => {
    out += d;
    check();
  });
  child.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  );
  return {
    child,
    output: () => out,
    exited,
    waitFor: (pattern) =>
      new Promise((resolve, reject) => {
        waiters.push({ pattern, resolve });
        check();
        void exited.then(({ code, signal }) => reject(new Error(`child exited (${code ?? signal}) before ${pattern}: ${out}`)));
      }),
  };
}
