// `npm run bench:sql-analysis`: time per statement of analyzeSql (src/gateway/policy/sql-parser.ts) on a
// mix of realistic statements, uncached (every text distinct: parse + AST walk) and cached (the same texts
// again: one LRU lookup), plus decideSql with the destructive preset and a few rules on cached texts.
// The TypeScript is bundled with esbuild first (libpg-query stays external).
//
// Env: BENCH_N (distinct statements, default 5000 = the cache size), BENCH_ROUNDS (default 5; best round).
import { build } from 'esbuild';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const N = Number(process.env.BENCH_N) || 5000;
const ROUNDS = Number(process.env.BENCH_ROUNDS) || 5;

const tmp = mkdtempSync(path.join(os.tmpdir(), 'gh-bench-sql-'));
const entry = path.join(tmp, 'entry.ts');
writeFileSync(
  entry,
  [
    `export * from ${JSON.stringify(path.join(root, 'src/gateway/policy/sql-parser.ts'))};`,
    `export * from ${JSON.stringify(path.join(root, 'src/gateway/policy/policy-engine.ts'))};`,
    `export * from ${JSON.stringify(path.join(root, 'src/gateway/policy/policy-file.ts'))};`,
  ].join('\n'),
);
const out = path.join(tmp, 'bundle.mjs');
await build({ absWorkingDir: root, entryPoints: [entry], outfile: out, bundle: true, platform: 'node', target: 'node20', format: 'esm', packages: 'external', logLevel: 'warning' });
// Resolve libpg-query from the project, not from the temp dir.
const bundled = path.join(root, 'node_modules', '.cache', 'gh-bench-sql.mjs');
const { mkdirSync, copyFileSync } = await import('node:fs');
mkdirSync(path.dirname(bundled), { recursive: true });
copyFileSync(out, bundled);
rmSync(tmp, { recursive: true, force: true });
const { loadSqlParser, analyzeSql, clearSqlCache, compilePolicy, decideSql, parsePolicy } = await import(pathToFileURL(bundled).href);
await loadSqlParser();

const templates = [
  (i) => `SELECT id, name, email FROM public.users WHERE id = ${i}`,
  (i) => `SELECT u.id, count(o.id) FROM users u LEFT JOIN orders o ON o.user_id = u.id WHERE u.created_at > now() - interval '${i} days' GROUP BY u.id ORDER BY 2 DESC LIMIT 50`,
  (i) => `INSERT INTO events (kind, payload, created_at) VALUES ('click', '{"n": ${i}}', now()) RETURNING id`,
  (i) => `UPDATE accounts SET balance = balance - ${i} WHERE id = ${i} AND balance >= ${i}`,
  (i) => `WITH recent AS (SELECT * FROM orders WHERE id > ${i}) SELECT r.*, p.name FROM recent r JOIN products p ON p.id = r.product_id`,
  (i) => `DELETE FROM sessions WHERE expires_at < now() - interval '${i} seconds'`,
];
const texts = Array.from({ length: N }, (_, i) => templates[i % templates.length](i));

const policy = parsePolicy(`version: 1
presets: [destructive]
rules:
  - { name: no-drop, match: { kinds: [drop table] }, action: block }
  - { name: billing, match: { tables: ["billing.*"], access: write }, action: approve }
  - { name: files, match: { functions: [pg_read_file] }, action: block }
`);
const compiled = compilePolicy(policy.policy);
const subject = { connection: { name: 'prod', tags: ['pci'] }, agent: { name: 'bot', tags: ['ai'] } };

function timeEach(fn) {
  let best = Infinity;
  for (let r = 0; r < ROUNDS; r++) {
    const t0 = process.hrtime.bigint();
    fn(r);
    const ns = Number(process.hrtime.bigint() - t0) / N;
    best = Math.min(best, ns);
  }
  return best;
}

// Uncached: clear before each round so every text is parsed and walked.
const uncached = timeEach(() => {
  clearSqlCache();
  for (const t of texts) if (!analyzeSql(t).ok) throw new Error(`did not parse: ${t}`);
});
// Cached: all N texts are in the LRU (N <= 5000).
clearSqlCache();
for (const t of texts) analyzeSql(t);
const cached = timeEach(() => {
  for (const t of texts) analyzeSql(t);
});
const decide = timeEach(() => {
  for (const t of texts) decideSql(compiled, subject, t);
});

const fmt = (ns) => (ns >= 1000 ? `${(ns / 1000).toFixed(1)} µs` : `${ns.toFixed(0)} ns`);
console.log(`analyzeSql over ${N} distinct statements (6 shapes), best of ${ROUNDS} rounds, node ${process.version}, ${os.cpus()[0]?.model ?? ''}`);
console.log(`  uncached (parse + walk):   ${fmt(uncached)} per statement`);
console.log(`  cached (LRU hit):          ${fmt(cached)} per statement`);
console.log(`  decideSql, cached text:    ${fmt(decide)} per statement (destructive preset + 3 rules)`);
rmSync(bundled, { force: true });
