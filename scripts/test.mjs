// `npm test`: everything CI checks, in order, stopping at the first failure:
// CLI bundle, type check, lint (incl. the layering rules), desktop + console build, then the test suites
// (real PostgreSQL, Chromium...). Extra arguments go to vitest: `npm test -- test/unit`.
// Ends with one plain line: "N passed, N failed".
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const extra = process.argv.slice(2);
const report = path.join(root, 'test-results/vitest.json');

const steps = [
  ['bundle the CLI', process.execPath, ['scripts/build-cli.mjs']],
  ['type check', 'npx', ['tsc', '-p', 'tsconfig.json', '--noEmit']],
  ['lint', 'npx', ['eslint', '.']],
  ['desktop + console build', 'npx', ['electron-vite', 'build']],
  ['tests', 'npx', ['vitest', 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${report}`, ...extra]],
];

/**
 * Counts from vitest's JSON report, or null when it wrote none. A test file that fails to load has no
 * failed test, so it counts as one failure: a broken import can't end in "N passed, 0 failed".
 */
function readCounts() {
  if (!existsSync(report)) return null;
  try {
    const j = JSON.parse(readFileSync(report, 'utf8'));
    const brokenFiles = (j.testResults ?? []).filter((f) => f.status === 'failed' && !(f.assertionResults ?? []).some((a) => a.status === 'failed')).length;
    return { passed: j.numPassedTests, failed: j.numFailedTests + brokenFiles, skipped: j.numPendingTests + (j.numTodoTests ?? 0) };
  } catch {
    return null;
  }
}

mkdirSync(path.dirname(report), { recursive: true });
rmSync(report, { force: true });
for (const [name, cmd, args] of steps) {
  const t0 = Date.now();
  console.log(`\n=== ${name}: ${cmd === process.execPath ? 'node' : cmd} ${args.join(' ')}`);
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', env: { ...process.env, FORCE_COLOR: process.env.CI ? '0' : process.env.FORCE_COLOR } });
  const ok = r.status === 0;
  console.log(`=== ${name}: ${ok ? 'ok' : 'FAILED'} in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  if (name === 'tests') {
    const c = readCounts();
    if (!c) console.error('npm test: vitest wrote no report');
    else if (!ok && c.failed === 0) c.failed = 1; // vitest failed without a failed test (e.g. no test files matched)
    console.log(`\n${c?.passed ?? 0} passed, ${c?.failed ?? 1} failed${c?.skipped ? `, ${c.skipped} skipped` : ''}`);
  }
  if (!ok) {
    if (name !== 'tests') console.error(`\nnpm test: step "${name}" failed (${r.error?.message ?? `exit ${r.status ?? r.signal}`}); later steps did not run.`);
    process.exit(r.status || 1);
  }
}
