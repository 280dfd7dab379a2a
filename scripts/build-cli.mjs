// Bundles the headless gateway + CLI (src/gateway/cli/main.ts) into dist/gatehouse.mjs with esbuild.
// Runs on `npm install` (prepare) and before tests, so `npx gatehouse` works from a fresh clone.
// npm packages stay external (native modules such as better-sqlite3 must be loaded from node_modules).
import { build } from 'esbuild';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));

const result = await build({
  absWorkingDir: root,
  entryPoints: ['src/gateway/cli/main.ts'],
  outfile: 'dist/gatehouse.mjs',
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  packages: 'external',
  sourcemap: 'linked',
  define: { __GATEHOUSE_VERSION__: JSON.stringify(pkg.version) },
  logLevel: 'warning',
  write: false,
});

// Publish each file atomically (temp file + rename): test files build the CLI while other tests run it,
// and a `gatehouse` started mid-write would load a truncated bundle (an empty one exits 0 silently).
mkdirSync(path.join(root, 'dist'), { recursive: true });
for (const file of result.outputFiles) {
  const tmp = `${file.path}.${process.pid}.tmp`;
  writeFileSync(tmp, file.contents);
  renameSync(tmp, file.path);
}
