// `npm test`: everything CI checks, in order, stopping at the first failure:
// CLI bundle, type check, lint (incl. layering), desktop build, then the test suites (real PostgreSQL etc.).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const extra = process.argv.slice(2);
const report = path.join(root, 'test-results/vitest.json');
mkdirSync(path.dirname(report), { recursive: true });

const steps = [
  ['bundle the CLI', process.execPath, ['scripts/build-cli.mjs']],
  ['type check', 'npx', ['tsc', '-p', 'tsconfig.json', '--noEmit']],
  ['lint', 'npx', ['eslint', '.']],
  ['desktop + console build', 'npx', ['electron-vite', 'build']],
  ['tests', 'npx', ['vitest', 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${report}`, ...extra]],
];

for (const [name, cmd, args] of steps) {
  const t0 = Date.now();
  console.log(`\n=== ${name}: ${cmd} ${args.join(' ')}`);
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', env: { ...process.env, FORCE_COLOR: process.env.CI ? '0' : process.env.FORCE_COLOR } });
  console.log(`=== ${name}: ${r.status === 0 ? 'ok' : 'FAILED'} in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  if (name === 'tests' && existsSync(report)) {
    const j = JSON.parse(readFileSync(report, 'utf8'));
    console.log(`\n${j.numPassedTests} passed, ${j.numFailedTests} failed, ${j.numPendingTests + (j.numTodoTests ?? 0)} skipped`);
  }
  if (r.status !== 0) {
    console.error(`npm test: step "${name}" failed`);
    process.exit(r.status ?? 1);
  }
}
