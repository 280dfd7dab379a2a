import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCli, gatehouse, startServe } from '../helpers/cli';
import { parsePolicy } from '../../src/gateway/policy/policy-file';
import { Store } from '../../src/gateway/store/store';

const dirs: string[] = [];
const tempDir = () => {
  const d = mkdtempSync(path.join(os.tmpdir(), 'gh-policy-'));
  dirs.push(d);
  return d;
};

const POLICY = `# guardrails for the reporting bot
version: 1
presets: [destructive]
rules:
  - name: no-drop
    match: { kinds: [drop table] }
    action: block
    message: ask the DBA
  - name: hold-billing-writes
    scope: { agentTags: [ai] }
    match: { tables: ["billing.*"], access: write }
    action: approve
    timeout: 2m
masking:
  - name: pii
    columns: [email]
    detectors: [payment_card]
    strategy: { partial: 4 }
`;

/** A data dir with connection "app" (tag prod) and agent "bot" (tag ai); nothing needs to listen. */
async function setup(): Promise<string> {
  const dir = tempDir();
  const c = await gatehouse(['connection', 'add', 'app', '--host', '127.0.0.1', '--port', '5432', '--database', 'app', '--user', 'app', '--tag', 'prod', '--data-dir', dir]);
  expect(c.code, c.stderr).toBe(0);
  const a = await gatehouse(['agent', 'add', 'bot', '--tag', 'ai', '--data-dir', dir]);
  expect(a.code, a.stderr).toBe(0);
  return dir;
}

beforeAll(() => {
  buildCli();
});

afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('gatehouse policy (no server)', () => {
  it('applies a file, exports it back, checks statements', async () => {
    const dir = await setup();
    const file = path.join(dir, 'policy.yaml');
    writeFileSync(file, POLICY);

    // Before any apply: the empty policy, version 0.
    const empty = await gatehouse(['policy', 'export', '--data-dir', dir]);
    expect(empty.code, empty.stderr).toBe(0);
    expect(parsePolicy(empty.stdout)).toEqual({ ok: true, policy: { version: 1, presets: [], rules: [], masking: [] } });

    const applied = await gatehouse(['policy', 'apply', file, '--data-dir', dir]);
    expect(applied.code, applied.stderr).toBe(0);
    expect(applied.stdout).toMatch(/^applied policy version 1 \(sha256 [0-9a-f]{16}…\): 2 rule\(s\), 1 preset\(s\), 1 masking rule\(s\)\n$/);

    // Export gives the text as applied (comments kept), to stdout or a file; it parses to the same policy.
    const exported = await gatehouse(['policy', 'export', '--data-dir', dir]);
    expect(exported.stdout).toBe(POLICY);
    const out = path.join(dir, 'out.yaml');
    expect((await gatehouse(['policy', 'export', '--out', out, '--data-dir', dir])).code).toBe(0);
    expect(readFileSync(out, 'utf8')).toBe(POLICY);
    // Re-applying the export is a new version of the same policy.
    const again = await gatehouse(['policy', 'apply', out, '--json', '--data-dir', dir]);
    expect(JSON.parse(again.stdout)).toMatchObject({ version: 2, appliedBy: 'cli' });

    const drop = await gatehouse(['policy', 'check', '--connection', 'app', '--agent', 'bot', 'DROP TABLE public.users', '--data-dir', dir]);
    expect(drop.code, drop.stderr).toBe(0);
    expect(drop.stdout).toBe('block  rule no-drop  DROP TABLE public.users\n  blocked by policy rule "no-drop" (ask the DBA): DROP TABLE public.users\n');

    const hold = await gatehouse(['policy', 'check', '--connection', 'app', '--agent', 'bot', 'INSERT INTO billing.invoices VALUES (1)', '--data-dir', dir]);
    expect(hold.stdout).toMatch(/^approve {2}rule hold-billing-writes {2}INSERT INTO billing\.invoices\n/);
    expect(hold.stdout).toContain('approval timeout 120s');

    const ok = await gatehouse(['policy', 'check', '--connection', 'app', '--agent', 'bot', "SELECT 'drop table users' AS \"drop\"", '--data-dir', dir]);
    expect(ok.stdout).toMatch(/^allow {2}rule - {2}SELECT\n/);

    const json = await gatehouse(['policy', 'check', '--connection', 'app', '--agent', 'bot', 'SELECT 1; TRUNCATE t', '--json', '--data-dir', dir]);
    const r = JSON.parse(json.stdout);
    expect(r).toMatchObject({ action: 'block', rule: 'destructive', parseError: null, policyVersion: 2 });
    expect(r.statements.map((s: { kind: string }) => s.kind)).toEqual(['select', 'truncate']);
    expect(r.statements[1].tablesWritten).toEqual(['t']);

    const bad = await gatehouse(['policy', 'check', '--connection', 'app', '--agent', 'bot', 'SELEC 1', '--data-dir', dir]);
    expect(bad.code).toBe(0);
    expect(bad.stdout).toMatch(/^block {2}rule - {2}unparsable SQL\n.*could not be parsed/);

    // Unknown names are errors (non-zero exit), not decisions.
    const noConn = await gatehouse(['policy', 'check', '--connection', 'nope', '--agent', 'bot', 'SELECT 1', '--data-dir', dir]);
    expect(noConn.code).toBe(1);
    expect(noConn.stderr).toBe('gatehouse: connection "nope" does not exist\n');
    expect((await gatehouse(['policy', 'check', '--connection', 'app', '--agent', 'nope', 'SELECT 1', '--data-dir', dir])).code).toBe(1);

    // History and the before/after diff of the last change.
    const hist = await gatehouse(['policy', 'history', '--data-dir', dir]);
    expect(hist.code).toBe(0);
    expect(hist.stdout.trimEnd().split('\n').map((l) => l.split(/\s+/)[0])).toEqual(['v2', 'v1']);
    // Version 2 re-applied the same text; against "no policy" (0) the whole file is added.
    expect((await gatehouse(['policy', 'diff', '--data-dir', dir])).stdout).toBe('versions 1 and 2 are identical\n');
    const diff = await gatehouse(['policy', 'diff', '--from', '0', '--to', '2', '--data-dir', dir]);
    expect(diff.code).toBe(0);
    expect(diff.stdout).toMatch(/^--- policy\.yaml\tversion 0$/m);
    expect(diff.stdout).toMatch(/^\+\+\+ policy\.yaml\tversion 2$/m);
    expect(diff.stdout.split('\n').filter((l) => l.startsWith('+') && !l.startsWith('+++')).join('\n') + '\n').toBe(POLICY.replace(/^/gm, '+').replace(/\+$/, ''));
    expect((await gatehouse(['policy', 'diff', '--to', '7', '--data-dir', dir])).stderr).toMatch(/does not exist/);

    // Every version is kept and audited with its hash.
    const store = Store.open(path.join(dir, 'gatehouse.db'), { readonly: true });
    try {
      expect(store.policies.history(10).map((p) => p.version)).toEqual([2, 1]);
      const events = store.audit.list({ limit: 10, kind: 'policy.applied', order: 'asc' });
      expect(events.map((e) => e.detail.version)).toEqual([1, 2]);
      expect(events[0].detail.sha256).toBe(store.policies.history(10)[1].sha256);
    } finally {
      store.close();
    }
  });

  it('a broken file gives FILE:LINE:COL errors, exit 1, and changes nothing', async () => {
    const dir = await setup();
    const file = path.join(dir, 'broken.yaml');
    writeFileSync(file, 'version: 1\nrules:\n  - name: a\n    action: nope\n  - name: b\n    action: block\n    matches: {}\npresets: [destructiv]\n');
    const r = await gatehouse(['policy', 'apply', file, '--data-dir', dir]);
    expect(r.code).toBe(1);
    const lines = r.stderr.trimEnd().split('\n');
    expect(lines[0]).toMatch(new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:4:13: rules\\[0\\]\\.action: `));
    expect(lines[1]).toBe(`${file}:7:5: rules[1].matches: unknown field "matches"`);
    expect(lines[2]).toMatch(new RegExp(`:8:11: presets\\[0\\]\\.name: unknown preset`));
    expect(lines[3]).toBe(`gatehouse: ${file}: 3 problems; nothing applied`);

    writeFileSync(file, 'version: 1\nrules: [\n');
    const syntax = await gatehouse(['policy', 'apply', file, '--data-dir', dir]);
    expect(syntax.code).toBe(1);
    expect(syntax.stderr).toMatch(new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:\\d+:\\d+: \\(file\\): `));

    const missing = await gatehouse(['policy', 'apply', path.join(dir, 'nope.yaml'), '--data-dir', dir]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/cannot read .*nope\.yaml: ENOENT/);

    const exported = await gatehouse(['policy', 'export', '--json', '--data-dir', dir]);
    expect(JSON.parse(exported.stdout).version).toBe(0);
  });
});

describe('gatehouse policy through a running server', () => {
  it('apply and check go through the server', async () => {
    const dir = await setup();
    const file = path.join(dir, 'policy.yaml');
    writeFileSync(file, POLICY);
    const serve = await startServe(dir);
    try {
      const applied = await gatehouse(['policy', 'apply', file, '--json', '--data-dir', dir]);
      expect(applied.code, applied.stderr).toBe(0);
      expect(JSON.parse(applied.stdout)).toMatchObject({ version: 1, appliedBy: 'cli' });
      const check = await gatehouse(['policy', 'check', '--connection', 'app', '--agent', 'bot', 'WITH d AS (DELETE FROM t RETURNING *) SELECT * FROM d', '--data-dir', dir]);
      expect(check.code, check.stderr).toBe(0);
      expect(check.stdout).toMatch(/^block {2}rule destructive {2}SELECT\n {2}blocked by policy preset "destructive" \(DELETE without WHERE\)/);
      expect((await gatehouse(['policy', 'export', '--data-dir', dir])).stdout).toBe(POLICY);
    } finally {
      await serve.stop();
    }
  });
});
