// `npm run bench:mask-engine`: the result masker alone (no sockets), on DataRow messages of 100,000 rows x
// 4 text columns (names, emails, card numbers, free text) with every built-in detector on. Prints rows/s
// and ns per value for: rows where nothing matches (the common case), the mix (emails and cards
// in every row), and a column-rule plan. The masker's TypeScript is bundled with esbuild first.
//
// Env: BENCH_ROWS (default 100000), BENCH_ROUNDS (default 5; the best round is reported).
import { build } from 'esbuild';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const ROWS = Number(process.env.BENCH_ROWS) || 100_000;
const ROUNDS = Number(process.env.BENCH_ROUNDS) || 5;

const tmp = mkdtempSync(path.join(os.tmpdir(), 'gh-bench-mask-'));
const out = path.join(tmp, 'result-masker.mjs');
await build({
  absWorkingDir: root,
  entryPoints: ['src/gateway/policy/masking/result-masker.ts'],
  outfile: out,
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  logLevel: 'warning',
});
const { ResultMasker } = await import(pathToFileURL(out).href);
rmSync(tmp, { recursive: true, force: true });

// ---- messages -----------------------------------------------------------------------------------------

function rowDescription(names) {
  const count = Buffer.alloc(2);
  count.writeInt16BE(names.length);
  const parts = [count];
  for (const name of names) {
    const f = Buffer.alloc(18);
    f.writeUInt32BE(0, 0); // table OID
    f.writeInt16BE(0, 4);
    f.writeUInt32BE(25, 6); // text
    f.writeInt16BE(-1, 10);
    f.writeInt32BE(-1, 12);
    f.writeInt16BE(0, 16); // text format
    parts.push(Buffer.from(name + '\0'), f);
  }
  return frame('T', Buffer.concat(parts));
}

function dataRow(values) {
  const bufs = values.map((v) => Buffer.from(v));
  const body = Buffer.alloc(2 + bufs.reduce((n, b) => n + 4 + b.length, 0));
  body.writeInt16BE(values.length, 0);
  let pos = 2;
  for (const b of bufs) {
    body.writeInt32BE(b.length, pos);
    pos += 4 + b.copy(body, pos + 4);
  }
  return frame('D', body);
}

function frame(type, body) {
  const head = Buffer.alloc(5);
  head[0] = type.charCodeAt(0);
  head.writeInt32BE(body.length + 4, 1);
  return Buffer.concat([head, body]);
}

// Deterministic sample data.
let seed = 42;
const rand = (n) => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) % n);
const FIRST = ['Alice', 'Bob', 'Carol', 'Dave', 'Erin', 'Frank', 'Grace', 'Heidi', 'Ivan', 'Judy'];
const LAST = ['Smith', 'Johnson', 'Williams', 'Brown', 'Jones', 'Garcia', 'Miller', 'Davis'];
const WORDS = 'the order was shipped on time and the customer asked for a refund because the parcel arrived damaged please call back later'.split(' ');
function luhnCard() {
  const d = [4, ...Array.from({ length: 14 }, () => rand(10))];
  let sum = 0;
  for (let i = 0; i < 15; i++) {
    let x = d[14 - i];
    if (i % 2 === 0) x = x * 2 > 9 ? x * 2 - 9 : x * 2;
    sum += x;
  }
  d.push((10 - (sum % 10)) % 10);
  return d.join('').replace(/(\d{4})(?=\d)/g, '$1 ');
}
const name = () => `${FIRST[rand(10)]} ${LAST[rand(8)]}`;
const text = (n) => Array.from({ length: n }, () => WORDS[rand(WORDS.length)]).join(' ');

function rows(kind) {
  const out = new Array(ROWS);
  for (let i = 0; i < ROWS; i++) {
    const n = name();
    if (kind === 'clean') out[i] = dataRow([n, `customer ${i}`, `order ${1000 + i}`, text(12)]);
    else out[i] = dataRow([n, `${n.toLowerCase().replace(' ', '.')}${i}@example.com`, luhnCard(), text(12)]);
  }
  return out;
}

// ---- runs ---------------------------------------------------------------------------------------------

const KEY = Buffer.alloc(32, 1);
const ALL = ['email', 'phone', 'payment_card', 'iban', 'us_ssn', 'ipv4', 'ipv6', 'jwt', 'aws_access_key', 'pem_private_key', 'api_token'];
const detectorsPlan = { columns: [], values: [{ rule: 'pii', detectors: ALL, custom: [], strategy: { kind: 'redact' } }] };
const columnPlan = {
  columns: [
    { rule: 'emails', columns: ['email'], strategy: { kind: 'hash' } },
    { rule: 'cards', columns: ['card'], strategy: { kind: 'partial', keep: 4 } },
  ],
  values: detectorsPlan.values,
};
const desc = rowDescription(['name', 'email', 'card', 'note']);

function run(label, plan, data) {
  let best = Infinity;
  let changed = 0;
  for (let r = 0; r < ROUNDS; r++) {
    const masker = new ResultMasker(plan, KEY);
    masker.rowDescription(desc);
    changed = 0;
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < data.length; i++) if (masker.dataRow(data[i]) !== data[i]) changed++;
    const ns = Number(process.hrtime.bigint() - t0);
    best = Math.min(best, ns);
  }
  const values = data.length * 4;
  const line = `| ${label} | ${Math.round(data.length / (best / 1e9)).toLocaleString('en-US')} | ${(best / values).toFixed(0)} | ${(best / 1e6).toFixed(1)} | ${changed.toLocaleString('en-US')} |`;
  console.log(line);
}

const clean = rows('clean');
const mixed = rows('mixed');
console.log(`\nResult masker, ${ROWS.toLocaleString('en-US')} DataRows x 4 text columns, best of ${ROUNDS} rounds, node ${process.version}, ${os.cpus()[0]?.model ?? 'cpu'}\n`);
console.log('| Case | rows/s | ns/value | ms total | rows changed |');
console.log('|---|---:|---:|---:|---:|');
run('all 11 detectors, no hits (names, plain text)', detectorsPlan, clean);
run('all 11 detectors, email + card in every row (redact)', detectorsPlan, mixed);
run('column rules (hash email, partial card) + detectors', columnPlan, mixed);
run('no plan rules at all (baseline loop)', { columns: [], values: [] }, clean);
