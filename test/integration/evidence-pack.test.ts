import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { strFromU8, strToU8, unzipSync, zipSync } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signatureFile } from '../../src/gateway/evidence/pack-format';
import { verifyEvidencePack } from '../../src/gateway/evidence/pack-verify';
import { CHROMIUM, launchChromium, SCREENSHOTS } from '../helpers/chromium';
import { buildCli, gatehouse, startServe, type ServeProcess } from '../helpers/cli';
import { runTool } from '../helpers/pg-gateway-harness';
import { startPostgres, type TestPostgres } from '../helpers/postgres';

/**
 * Evidence packs end to end: real PostgreSQL, `gatehouse serve`, psql through it, an access review
 * decided (a revoked agent refused) and completed, then `gatehouse export evidence` and `gatehouse
 * verify`; then tampering of every kind the verifier must name, and the report in Chromium offline.
 */
let db: TestPostgres;
let serve: ServeProcess;
let dir: string;
let work: string;
let pack: string;
let files: Record<string, Uint8Array>;
const secrets: Record<string, string> = {};
const gh = (args: string[], input?: string) => gatehouse([...args, '--data-dir', dir], { input });
const dsn = (agent: string) => `host=127.0.0.1 port=${serve.pgPort} dbname=app user=${agent} password=${secrets[agent]}`;
const today = new Date().toISOString().slice(0, 10);
/** The pack covers the last two weeks (the review covers today). */
const twoWeeksAgo = new Date(Date.now() - 13 * 86_400_000).toISOString().slice(0, 10);

/** Write a variant of the pack (stored, not deflated: quick) and return its path. */
function variant(name: string, entries: Record<string, Uint8Array>): string {
  const file = path.join(work, `${name}.zip`);
  writeFileSync(file, zipSync(entries, { level: 0 }));
  return file;
}

/** Re-sign a manifest with some private key, as an attacker (or the installation) would. */
function resign(entries: Record<string, Uint8Array>, key: ReturnType<typeof createPrivateKey>, edit?: (m: any) => void): Record<string, Uint8Array> {
  let manifest = strFromU8(entries['manifest.json']);
  if (edit) {
    const m = JSON.parse(manifest);
    edit(m);
    manifest = JSON.stringify(m, null, 2) + '\n';
  }
  const publicKey = createPublicKeyB64(key);
  const sig = sign(null, Buffer.from(manifest), key).toString('base64');
  return { ...entries, 'manifest.json': strToU8(manifest), 'manifest.sig': strToU8(signatureFile(publicKey, sig)) };
}
function createPublicKeyB64(key: ReturnType<typeof createPrivateKey>): string {
  return createPublicKey(key).export({ type: 'spki', format: 'der' }).toString('base64');
}

beforeAll(async () => {
  buildCli();
  db = await startPostgres();
  dir = mkdtempSync(path.join(os.tmpdir(), 'gh-evidence-'));
  work = mkdtempSync(path.join(os.tmpdir(), 'gh-evidence-work-'));
  serve = await startServe(dir);
  await gh(['connection', 'add', 'app', '--host', db.host, '--port', String(db.port), '--database', 'app', '--user', db.users.scram.user, '--password-stdin'], db.users.scram.password);
  for (const a of ['report-bot', 'leaver']) {
    secrets[a] = JSON.parse((await gh(['agent', 'add', a, '--json'])).stdout).secret;
    await gh(['grant', 'add', '--agent', a, '--connection', 'app']);
  }
  await runTool('psql', [dsn('report-bot'), '-X', '-c', 'create table if not exists invoices (id int, note text)', '-c', "insert into invoices values (1, '=HYPERLINK(\"http://x\")')", '-c', 'select * from invoices', '-c', 'select nope']);
  await runTool('psql', [dsn('report-bot'), '-X', '-c', 'select count(*) from invoices']);
  await runTool('psql', [dsn('leaver'), '-X', '-c', 'select 1']);

  const review = JSON.parse((await gh(['review', 'start', '--name', 'Q4 agents', '--period', `${today}..${today}`, '--json'])).stdout);
  await gh(['review', 'decide', review.id, '--agent', 'report-bot', '--connection', 'app', '--keep', '--comment', 'monthly invoicing']);
  await gh(['review', 'decide', review.id, '--agent', 'leaver', '--connection', 'app', '--revoke', '--comment', 'project ended']);
  const refused = await runTool('psql', [dsn('leaver'), '-X', '-c', 'select 1']);
  expect(refused.stderr).toContain('no active grant');
  expect((await gh(['review', 'complete', review.id])).code).toBe(0);
  // Sessions are sealed into the chain when they end; wait until all three are.
  for (let i = 0; i < 100; i++) {
    const kinds = (await gh(['audit', 'export'])).stdout.trim().split('\n').map((l) => JSON.parse(l).kind);
    if (kinds.filter((k: string) => k === 'session.recorded').length >= 3) break;
    await new Promise((r) => setTimeout(r, 100));
  }

  pack = path.join(work, 'pack.zip');
  const r = await gh(['export', 'evidence', '--period', `${twoWeeksAgo}..${today}`, '--out', pack]);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  expect(r.stdout).toMatch(/^wrote .*pack\.zip .*3 sessions, 6 statements, 2 entitlements/);
  files = unzipSync(readFileSync(pack));
}, 120_000);

afterAll(async () => {
  await serve?.stop();
  await db?.stop();
  for (const d of [dir, work]) if (d) rmSync(d, { recursive: true, force: true });
});

describe('evidence pack', () => {
  it('holds the activity, the review decisions and the chain, and `gatehouse verify` says ok', async () => {
    const ok = await gatehouse(['verify', pack]);
    expect(ok.stderr).toBe('');
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/^ok: .* 3 sessions, 6 statements; \d+ audit events chained, \d+ checkpoint\(s\) valid, 3 recording\(s\) match their sealed digests, 1 signed review\(s\) valid\n$/);

    const names = Object.keys(files);
    for (const f of ['manifest.json', 'manifest.sig', 'SHA256SUMS', 'report.html', 'sessions.csv', 'sessions.jsonl', 'statements.csv', 'statements.jsonl', 'entitlements-and-decisions.csv', 'entitlements-and-decisions.jsonl', 'approvals.csv', 'approvals.jsonl', 'blocks.csv', 'blocks.jsonl', 'audit/chain.jsonl', 'audit/checkpoints.jsonl', 'reviews.jsonl']) {
      expect(names).toContain(f);
    }
    expect(names.filter((n) => n.startsWith('recordings/'))).toHaveLength(3);
    const text = (n: string) => strFromU8(files[n]);
    expect(text('statements.csv')).toContain(`"insert into invoices values (1, '=HYPERLINK(""http://x"")')"`);
    const entitlements = text('entitlements-and-decisions.jsonl').trim().split('\n').map((l) => JSON.parse(l));
    expect(entitlements.map((e) => [e.agentName, e.decision, e.comment, e.reviewName])).toEqual([
      ['leaver', 'revoke', 'project ended', 'Q4 agents'],
      ['report-bot', 'keep', 'monthly invoicing', 'Q4 agents'],
    ]);
    const kinds = text('audit/chain.jsonl').trim().split('\n').map((l) => JSON.parse(l).kind);
    expect(kinds.filter((k) => k === 'review.decided')).toHaveLength(2);
    expect(kinds).toContain('review.completed');
    expect(kinds).toContain('access.denied');
    const manifest = JSON.parse(text('manifest.json'));
    expect(manifest.counts).toMatchObject({ sessions: 3, statements: 6, recordings: 3, entitlements: 2, reviews: 1 });
    expect(manifest.files.map((f: any) => f.path).sort()).toEqual(names.filter((n) => n !== 'manifest.json' && n !== 'manifest.sig').sort());
    // The export itself is in the audit trail.
    expect((await gh(['audit', 'export'])).stdout).toContain('"kind":"evidence.exported"');
  });

  it('detects a single-byte change anywhere in any file and names the file', async () => {
    let checked = 0;
    for (const [name, data] of Object.entries(files)) {
      // Every byte of small files; a spread of 24 positions (first and last included) of the others.
      const positions = data.length <= 400 ? [...data.keys()] : [...new Set([0, data.length - 1, ...Array.from({ length: 22 }, (_, i) => Math.floor(((i + 1) * data.length) / 23))])];
      for (const pos of positions) {
        const copy = Uint8Array.from(data);
        copy[pos] ^= pos % 2 ? 0x20 : 0x01;
        const r = await verifyEvidencePack(variant('flip', { ...files, [name]: copy }));
        const expected = name === 'manifest.json' ? 'manifest.sig: signature does not verify' : `${name}: `;
        expect(r.ok, `${name} byte ${pos}`).toBe(false);
        expect(r.problems.some((p) => p.startsWith(expected)), `${name} byte ${pos}: ${r.problems.join(' | ')}`).toBe(true);
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(400);
    // The exact words, through the CLI.
    const report = Uint8Array.from(files['report.html']);
    report[report.length - 1] ^= 1;
    const cli = await gatehouse(['verify', variant('report', { ...files, 'report.html': report })]);
    expect(cli.code).toBe(1);
    expect(cli.stderr).toMatch(/^FAIL report\.html: SHA-256 mismatch \(the manifest says [0-9a-f]{64}, the file has [0-9a-f]{64}\)\ngatehouse: .* does not verify: 1 problem\(s\)\n$/);
    const manifest = Uint8Array.from(files['manifest.json']);
    manifest[10] ^= 1;
    expect((await gatehouse(['verify', variant('manifest', { ...files, 'manifest.json': manifest })])).stderr).toContain('FAIL manifest.sig: signature does not verify');
  }, 240_000);

  it('names a chain event changed even when the installation key re-signs the manifest', async () => {
    const lines = strFromU8(files['audit/chain.jsonl']).split('\n');
    const e = JSON.parse(lines[2]);
    e.actor = 'someone-else';
    lines[2] = JSON.stringify(e);
    const chain = strToU8(lines.join('\n'));
    const key = createPrivateKey(readFileSync(path.join(dir, 'signing.key'), 'utf8'));
    const sha = createHash('sha256').update(chain).digest('hex');
    const entries = resign({ ...files, 'audit/chain.jsonl': chain }, key, (m) => {
      const f = m.files.find((x: any) => x.path === 'audit/chain.jsonl');
      f.sha256 = sha;
      f.bytes = chain.length;
    });
    const sums = strFromU8(entries['SHA256SUMS']).replace(/^[0-9a-f]{64}(?= {2}audit\/chain\.jsonl$)/m, sha);
    const m = JSON.parse(strFromU8(entries['manifest.json']));
    const s = m.files.find((x: any) => x.path === 'SHA256SUMS');
    s.sha256 = createHash('sha256').update(sums).digest('hex');
    const final = resign({ ...entries, SHA256SUMS: strToU8(sums) }, key, (mm) => (mm.files = m.files));
    const r = await gatehouse(['verify', variant('chain', final)]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`FAIL audit/chain.jsonl: event ${e.id} hash mismatch (changed after it was recorded)`);
  });

  it('detects a removed file and an added file', async () => {
    const { ['statements.csv']: _gone, ...rest } = files;
    const removed = await gatehouse(['verify', variant('removed', rest)]);
    expect(removed.code).toBe(1);
    expect(removed.stderr).toContain('FAIL statements.csv: listed in the manifest but missing from the pack');
    const added = await gatehouse(['verify', variant('added', { ...files, 'recordings/extra.jsonl': strToU8('{}\n') })]);
    expect(added.code).toBe(1);
    expect(added.stderr).toContain('FAIL recordings/extra.jsonl: not listed in the manifest (added to the pack)');
  });

  it('detects a pack re-signed by another key', async () => {
    const other = generateKeyPairSync('ed25519').privateKey;
    // Only the signature swapped: the manifest names another installation key.
    const swapped = await gatehouse(['verify', variant('swapped', resign(files, other))]);
    expect(swapped.code).toBe(1);
    expect(swapped.stderr).toMatch(/FAIL manifest\.sig: signed by key [0-9a-f]{64}, but the manifest names installation gh-/);
    expect(swapped.stderr).toMatch(/FAIL audit\/checkpoints\.jsonl: checkpoint \d+ was signed by another key than the pack's/);
    // The forger also rewrites the installation in the manifest: the installation's own signatures inside still betray it.
    const { installationIdOf, keyFingerprint } = await import('../../src/gateway/evidence/pack-format');
    const b64 = createPublicKeyB64(other);
    const forged = variant('forged', resign(files, other, (m) => (m.installation = { ...m.installation, id: installationIdOf(b64), publicKeyFingerprint: keyFingerprint(b64) })));
    const r = await gatehouse(['verify', forged]);
    expect(r.code).toBe(1);
    expect(r.stderr).not.toContain('manifest.sig:');
    expect(r.stderr).toMatch(/FAIL audit\/checkpoints\.jsonl: checkpoint \d+ was signed by another key than the pack's/);
    expect(r.stderr).toContain("FAIL reviews.jsonl: review");
    // Pinning the expected key names the mismatch outright.
    const pinned = await gatehouse(['verify', forged, '--public-key', createPublicKeyB64(createPrivateKey(readFileSync(path.join(dir, 'signing.key'), 'utf8')))]);
    expect(pinned.stderr).toMatch(/FAIL manifest\.sig: signed by key [0-9a-f]{64}, not the expected key [0-9a-f]{64}/);
    expect((await gatehouse(['verify', pack, '--public-key', path.join(work, 'no-such-file-and-not-a-key')])).code).toBe(2);
  });

  it('opens report.html in Chromium with no network request, and screenshots it', async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`Chromium not found at ${CHROMIUM} (apt-get install chromium)`);
    const userDataDir = mkdtempSync(path.join(os.tmpdir(), 'gh-chromium-'));
    const browser = await launchChromium(userDataDir, { width: 1100, height: 900 });
    try {
      const attempted: string[] = [];
      // Every request but the page itself (read from disk) is recorded and aborted.
      await browser.route('**/*', (route) => {
        const url = route.request().url();
        if (url.startsWith('file://')) return route.continue();
        attempted.push(url);
        return route.abort();
      });
      const page = await browser.newPage();
      page.on('request', (r) => attempted.push(r.url()));
      const html = path.join(work, 'report.html');
      writeFileSync(html, files['report.html']);
      await page.goto(`file://${html}`, { waitUntil: 'load' });
      expect(await page.locator('h1').textContent()).toBe('Evidence of agent access');
      expect(await page.locator('svg.chart').count()).toBeGreaterThanOrEqual(2);
      await expect(page.locator('body').textContent()).resolves.toContain('project ended');
      // The only request is the page itself, from disk.
      expect(attempted.filter((u) => !u.startsWith('file://'))).toEqual([]);
      mkdirSync(SCREENSHOTS, { recursive: true });
      await page.screenshot({ path: path.join(SCREENSHOTS, 'evidence-report.png'), fullPage: true });
    } finally {
      await browser.close();
      rmSync(userDataDir, { recursive: true, force: true });
    }
  }, 60_000);
});
