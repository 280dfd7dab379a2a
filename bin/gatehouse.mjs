#!/usr/bin/env node
// The `gatehouse` command. The CLI is bundled to dist/ by `npm install` (prepare) or `npm run build:cli`.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const entry = new URL('../dist/gatehouse.mjs', import.meta.url);
if (!existsSync(fileURLToPath(entry))) {
  process.stderr.write('gatehouse: the CLI is not built yet; run `npm run build:cli` (npm install does it).\n');
  process.exit(1);
}
await import(entry.href);
