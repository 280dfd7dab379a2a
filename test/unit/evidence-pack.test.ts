import { createHash, randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { strFromU8, unzipSync, zipSync } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportEvidencePack } from '../../src/gateway/evidence/evidence-pack';
import { verifyEvidencePack } from '../../src/gateway/evidence/pack-verify';
import { parseSignatureFile, signatureFile } from '../../src/gateway/evidence/pack-format';
import { csvCell, csvRow } from '../../src/gateway/evidence/csv';
import { loadOrCreateSigningKey } from '../../src/gateway/identity/signing-key';
import { AuditLog } from '../../src/gateway/recording/audit-log';
import { sessionDigest, sessionDigestLine } from '../../src/gateway/recording/session-digest';
import { STATEMENT_ROW_COLUMNS, StatementLines } from '../../src/gateway/evidence/statement-lines';
import { DeflateSpool, type SpooledEntry } from '../../src/gateway/evidence/spool';
import { crc32, inflateRawSync } from 'node:zlib';
import { EventBus } from '../../src/gateway/core/event-bus';
import { Store } from '../../src/gateway/store/store';
import { createGatewayApi } from '../../src/gateway/api/gateway-api';
import { silentLogger } from '../../src/gateway/core/logger';
import { SecretBox } from '../../src/gateway/identity/secret-box';
import { existsSync, statSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import type { StatementRecord } from '../../src/gateway/store/records';

const T0 = Date.parse('2026-11-02T10:00:00Z');
const scope = { start: Date.parse('2026-10-01T00:00:00Z'), end: Date.parse('2026-12-31T23:59:59.999Z'), agents: [], connections: [] };

describe('evidence pack (store-level)', () => {
  let dir: string;
  let pack: string;
  let store: Store;
  let signer: ReturnType<typeof loadOrCreateSigningKey>;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'gh-evidence-'));
    store = Store.open(path.join(dir, 'gatehouse.db'));
    signer = loadOrCreateSigningKey(dir);
    let clock = T0;
    const audit = new AuditLog(store, new EventBus(), () => clock++, signer);
    store.connections.insert({ id: 'c1', name: 'shop', kind: 'postgres', host: 'h', port: 5432, database: 'd', username: 'u', tlsMode: 'disable', secretEnc: null, tags: [], createdAt: T0 - 1e9, updatedAt: T0 });
    store.agents.insert({ id: 'a1', name: 'report-bot', secretVerifier: 'x', tags: [], disabled: false, createdAt: T0 - 1e9 });
    store.grants.insert({ id: 'g1', agentId: 'a1', connectionId: 'c1', createdAt: T0 - 1e9, expiresAt: null, revokedAt: null, createdBy: 'cli' });
    audit.append({ kind: 'grant.added', actor: 'cli', detail: {} });
    for (let i = 0; i < 3; i++) {
      const id = randomUUID();
      store.sessions.insert({ id, protocol: 'postgres', agentId: 'a1', agentName: 'report-bot', connectionId: 'c1', connectionName: 'shop', clientAddress: '127.0.0.1', tls: true, startedAt: T0 + i * 86_400_000, endedAt: null, bytesIn: 0, bytesOut: 0, endReason: null, statementCount: 0 });
      const sts: StatementRecord[] = Array.from({ length: 5 }, (_, k) => ({
        sessionId: id, seq: k + 1, protocol: 'simple', sql: k === 2 ? `=HYPERLINK("x","y"), 'quoted'\nnext line` : `SELECT ${k}`, paramCount: 0,
        startedAt: T0 + i * 86_400_000 + k, durationMs: 1.5, commandTag: k === 4 ? null : 'SELECT 1', rows: 1, errorCode: k === 4 ? '42P01' : null,
        ...(k === 1 ? { policyAction: 'block' as const, policyRule: 'no-drop' } : {}), ...(k === 3 ? { maskedValues: 2, maskedBy: { 'pii:email': 1, 'cards:column': 1 }, resultPreview: '[["a***"]]' } : {}),
      }));
      store.transaction(() => store.statements.insertMany(sts));
      store.sessions.finish(id, { endedAt: T0 + i * 86_400_000 + 10, bytesIn: 1, bytesOut: 2, endReason: 'client_closed', statementCount: 5 });
      audit.append({ kind: 'session.recorded', actor: 'gatehouse', sessionId: id, detail: { digest: sessionDigest(store.statements.listBySession(id)), statements: 5 } });
    }
    audit.checkpoint();
    pack = path.join(dir, 'pack.zip');
    await exportEvidencePack({ evidence: store.evidence, signer, file: pack, scope, exportId: 'e1', version: 'test', storeInstallationId: null, now: () => T0 + 1e9, pageSize: 2 });
  });
  afterAll(() => {
    store?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('verifies', async () => {
    const r = await verifyEvidencePack(pack);
    expect(r.problems).toEqual([]);
    expect(r.summary.recordingsSealed).toBe(3);
    expect(r.summary.counts.statements).toBe(15);
    // The report charts masked values by detector (3 sessions x one email and one column-rule value).
    const files = unzipSync(readFileSync(pack));
    const report = strFromU8(files['report.html']);
    expect(report).toContain('masked values by detector');
    expect(report).toMatch(/email[^]*3/);
    expect(report).toContain('column:cards');
    expect(strFromU8(files['statements.jsonl'])).toContain('"maskedBy":{"pii:email":1,"cards:column":1}');
  });

  it('CSV quoting and the formula guard', () => {
    expect(csvCell('=1+1')).toBe("'=1+1");
    expect(csvCell('-2')).toBe("'-2");
    expect(csvCell('+x')).toBe("'+x");
    expect(csvCell('@x')).toBe("'@x");
    expect(csvCell(-2)).toBe('-2');
    expect(csvCell('a,"b"\nc')).toBe('"a,""b""\nc"');
    expect(csvRow(['x', null, 3])).toBe('x,,3\r\n');
    const files = unzipSync(readFileSync(pack));
    expect(strFromU8(files['statements.csv'])).toContain(`"'=HYPERLINK(""x"",""y""), 'quoted'\nnext line"`);
  });

  it('the signature file is strict', () => {
    const text = signatureFile(signer.publicKey, signer.sign('x'));
    expect(parseSignatureFile(text)).not.toBeNull();
    expect(parseSignatureFile(text.replace('\n', '\r\n'))).toBeNull();
  });

  it('detects every single-byte change in small files and sampled ones in large files', async () => {
    const files = unzipSync(readFileSync(pack));
    const mutated = path.join(dir, 'mutated.zip');
    let checked = 0;
    for (const [name, data] of Object.entries(files)) {
      // Every byte of small files (the signature file among them); a spread of 32 positions, first and
      // last included, of bigger ones.
      const positions = data.length <= 600 ? [...data.keys()] : [...new Set([0, 1, data.length - 2, data.length - 1, ...Array.from({ length: 28 }, (_, i) => Math.floor(((i + 1) * data.length) / 29))])];
      for (const pos of positions) {
        const copy = { ...files, [name]: Uint8Array.from(data) };
        copy[name][pos] ^= 0x01;
        writeFileSync(mutated, zipSync(copy, { level: 0 }));
        const r = await verifyEvidencePack(mutated);
        expect(r.ok, `${name} byte ${pos}`).toBe(false);
        expect(r.problems.some((p) => p.startsWith(`${name}:`) || (name === 'manifest.json' && p.startsWith('manifest.sig: signature does not verify'))), `${name} byte ${pos}: ${r.problems.join('; ')}`).toBe(true);
        checked++;
      }
    }
    console.log(`single-byte changes checked: ${checked}`);
    expect(checked).toBeGreaterThan(500);
  }, 120_000);
});

describe('evidence.export (contract)', () => {
  it('writes a verifiable pack into the data dir\'s exports/, with progress events and an audit event', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'gh-evidence-api-'));
    const store = Store.open(path.join(dir, 'gatehouse.db'));
    try {
      const bus = new EventBus();
      const seen: { event: string; payload: any }[] = [];
      bus.onAny((event, payload) => seen.push({ event, payload }));
      const signer = loadOrCreateSigningKey(dir);
      const api = createGatewayApi(
        {
          store,
          secretBox: new SecretBox(randomBytes(32)),
          audit: new AuditLog(store, bus, Date.now, signer),
          events: bus,
          signer,
          runtime: { closeSessions: () => 0, testConnection: async () => ({ ok: true, stage: 'ok', message: '', serverVersion: null, elapsedMs: 0 }) },
          info: () => ({ version: 't', dataDir: dir, installationId: 'i', listeners: { postgres: null, console: null }, tlsFingerprint: null }),
        },
        silentLogger,
      );
      const call = (c: string, i: unknown) => api.call(c, i, { actor: 'test' }) as Promise<any>;
      await call('agents.add', { name: 'bot' });
      const r = await call('evidence.export', { periodStart: '2026-01-01T00:00:00Z', periodEnd: '2027-01-01T00:00:00Z', exportId: 'q4-1' });
      expect(r.path).toBe(path.join(dir, 'exports', 'evidence-2026-01-01-2027-01-01-q4-1.zip'));
      expect(statSync(r.path).mode & 0o777).toBe(0o600);
      expect(r.emptySections).toEqual({});
      expect((await verifyEvidencePack(r.path)).problems).toEqual([]);
      const progress = seen.filter((e) => e.event === 'evidence.progress').map((e) => e.payload);
      expect(progress.length).toBeGreaterThan(0);
      expect(progress.every((p) => p.exportId === 'q4-1')).toBe(true);
      expect(progress[progress.length - 1]).toMatchObject({ phase: 'done', done: 1, total: 1 });
      const exported = store.audit.list({ limit: 1, kind: 'evidence.exported' })[0];
      expect(exported.detail).toMatchObject({ exportId: 'q4-1', manifestSha256: r.manifestSha256 });
      // No temp files are left next to the pack.
      expect(existsSync(`${r.path}.statements.tmp`) || existsSync(`${r.path}.recordings.tmp`)).toBe(false);
      await expect(call('evidence.export', { periodStart: '2026-02-01T00:00:00Z', periodEnd: '2026-01-01T00:00:00Z' })).rejects.toThrow('the period must end after it starts');
    } finally {
      store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('statement lines (statements.csv, statements.jsonl, recordings)', () => {
  const iso = (ms: unknown) => (typeof ms === 'number' ? new Date(ms).toISOString() : null);
  const OPTIONAL: [string, string][] = [['policy_action', 'policyAction'], ['policy_rule', 'policyRule'], ['approval_id', 'approvalId'], ['masked_values', 'maskedValues']];
  /** The straightforward formatting the fast builder must equal: csvRow, JSON.stringify of the record, sessionDigestLine. */
  function reference(se: { id: string; agent: string; connection: string }, s: Record<string, any>, columns: Set<string>) {
    const optional = OPTIONAL.filter(([c]) => columns.has(c));
    const startedAt = iso(s.started_at);
    const o: Record<string, unknown> = {
      sessionId: se.id, seq: s.seq, agentName: se.agent, connectionName: se.connection, protocol: s.protocol, startedAt, durationMs: s.duration_ms,
      commandTag: s.command_tag, rows: s.rows, errorCode: s.error_code, paramCount: s.param_count, sql: s.sql,
    };
    for (const [c, j] of optional) o[j] = s[c] ?? null;
    if (columns.has('masked_by')) o.maskedBy = s.masked_by ? JSON.parse(s.masked_by) : null;
    if (columns.has('result_preview')) o.resultPreview = s.result_preview ?? null;
    const record: StatementRecord = {
      sessionId: s.session_id, seq: s.seq, protocol: s.protocol, sql: s.sql, paramCount: s.param_count, startedAt: s.started_at, durationMs: s.duration_ms,
      commandTag: s.command_tag, rows: s.rows, errorCode: s.error_code, policyAction: s.policy_action ?? null, policyRule: s.policy_rule ?? null,
      approvalId: s.approval_id ?? null, maskedValues: s.masked_values ?? null, resultPreview: s.result_preview ?? null,
      ...(s.masked_by ? { maskedBy: JSON.parse(s.masked_by) } : {}),
    };
    return {
      csv: csvRow([se.id, s.seq, se.agent, se.connection, s.protocol, startedAt, s.duration_ms, s.command_tag, s.rows, s.error_code, s.param_count, ...optional.map(([c]) => s[c]), ...(columns.has('masked_by') ? [s.masked_by ?? null] : []), s.sql]),
      json: JSON.stringify(o) + '\n',
      digest: sessionDigestLine(record),
      command: s.error_code !== null ? 'ERROR' : s.command_tag ? String(s.command_tag).split(' ')[0].toUpperCase() : 'OTHER',
      day: String(startedAt).slice(0, 10),
    };
  }

  it('equal the straightforward formatting for tricky values, with and without the policy columns', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'gh-statement-lines-'));
    const store = Store.open(path.join(dir, 'gatehouse.db'));
    try {
      let seed = 7;
      const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
      const pick = <T,>(xs: T[]) => xs[Math.floor(rnd() * xs.length)];
      const texts = ['SELECT 1', '=HYPERLINK("x")', '-1', '+x', '@sum', '\tindent', '\rcr', 'a,b', 'say "hi"', 'line\nbreak', 'crlf\r\nend', '', ' ', 'ünïcødé ✓ 😀', 'back\\slash', '\u2028sep\u2029', 'ctl\u0001\u001f', "it's"];
      const se = { id: `s-${'"x",'}`, agent: '=agent,"1"', connection: 'shop\nmain' };
      const sts: StatementRecord[] = Array.from({ length: 400 }, (_, k) => ({
        sessionId: se.id,
        seq: k + 1,
        protocol: pick(['simple', 'extended']) as StatementRecord['protocol'],
        sql: pick(texts) + (rnd() < 0.5 ? pick(texts) : ''),
        paramCount: Math.floor(rnd() * 5),
        // Around the epoch, across years, and millisecond values of every width.
        startedAt: pick([0, -1, -999, -1001, 999, 1000, Date.UTC(1969, 11, 31, 23, 59, 59, 7), Date.UTC(2026, 9, 1), Date.UTC(2099, 11, 31, 23, 59, 59, 999)]) + Math.floor(rnd() * 3) * pick([1, 10, 100, 1000, 86_400_000]),
        durationMs: pick([0, 0.1 + 0.2, 1.5, 1e21, 1e-7, 123456.789, 2 ** 53]),
        commandTag: pick([null, '', 'SELECT 5', 'insert 0 1', 'UPDATE 1', 'COPY']),
        rows: pick([null, 0, 1, 50, 2 ** 40]),
        errorCode: pick([null, null, '42P01', '57014']),
        policyAction: pick([null, 'block', 'approve']) as StatementRecord['policyAction'],
        policyRule: pick([null, 'no-drop', '=rule, "quoted"']),
        approvalId: pick([null, 'ap-1']),
        maskedValues: pick([null, 0, 3]),
        resultPreview: pick([null, '', '[["a***"]]', 'x\ny']),
        // Keys in an order canonical JSON must sort.
        ...(rnd() < 0.5 ? { maskedBy: pick<Record<string, number>>([{ 'pii:email': 2 }, { 'z-rule:payment_card': 1, 'a-rule:column': 3 }, { 'b:x"y': 1 }]) } : {}),
      }));
      store.transaction(() => store.statements.insertMany(sts));
      const objects = store.evidence.statementPage(se.id, 0, 1000);
      const raw = store.evidence.statementRows(se.id, 0, 1000, STATEMENT_ROW_COLUMNS);
      expect(raw).toHaveLength(400);
      const all = new Set(store.evidence.columns('statements'));
      expect(all.has('policy_action') && all.has('result_preview')).toBe(true);
      for (const columns of [all, new Set([...all].filter((c) => !['policy_action', 'policy_rule', 'approval_id', 'masked_values', 'result_preview', 'masked_by'].includes(c)))]) {
        const lines = new StatementLines(columns);
        expect(lines.csvHeader()).toBe(csvRow(['session_id', 'seq', 'agent_name', 'connection_name', 'protocol', 'started_at', 'duration_ms', 'command_tag', 'rows', 'error_code', 'param_count', ...OPTIONAL.filter(([c]) => columns.has(c)).map(([c]) => c), ...(columns.has('masked_by') ? ['masked_by'] : []), 'sql']));
        lines.session(se.id, se.agent, se.connection);
        raw.forEach((r, i) => {
          lines.format(r);
          const want = reference(se, objects[i], columns);
          expect({ csv: lines.csv, json: lines.json, digest: lines.digest, command: lines.command, day: lines.day }, `statement ${i + 1}`).toEqual(want);
        });
      }
      // The recording of the session is exactly what its sealed digest hashes.
      const lines = new StatementLines(all);
      lines.session(se.id, se.agent, se.connection);
      const recording = raw.map((r) => (lines.format(r), lines.digest)).join('');
      expect(createHash('sha256').update(recording).digest('hex')).toBe(sessionDigest(store.statements.listBySession(se.id)));
    } finally {
      store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('deflate spool', () => {
  it('gives back each entry, small (one call) and big (streamed), with its hash, CRC and size, in any order', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'gh-spool-'));
    const spool = new DeflateSpool(path.join(dir, 'x.tmp'), 3);
    try {
      let seed = 1;
      const word = () => ((seed = (seed * 48271) % 2147483647), `w${seed.toString(36)} ü✓ `);
      const texts: string[] = [];
      const entries: SpooledEntry[] = [];
      // Small, big (crosses several 1 MiB buffers and read windows), empty, small again, big again.
      for (const size of [5_000, 3_500_000, 0, 70_000, 1_200_000]) {
        spool.begin();
        let text = '';
        while (text.length < size) {
          const piece = Array.from({ length: 50 }, word).join('') + '\n';
          spool.write(piece);
          text += piece;
        }
        texts.push(text);
        entries.push(spool.end());
        await spool.drained();
      }
      await spool.close();
      const read = async (i: number) => {
        const parts: Buffer[] = [];
        for await (const c of spool.read(entries[i])) parts.push(Buffer.from(c));
        return inflateRawSync(Buffer.concat(parts));
      };
      for (const i of [1, 0, 4, 2, 3, 0]) {
        const data = await read(i);
        const want = Buffer.from(texts[i], 'utf8');
        expect(data.equals(want), `entry ${i}`).toBe(true);
        expect(entries[i]).toMatchObject({ bytes: want.length, crc: crc32(want), sha256: createHash('sha256').update(want).digest('hex') });
      }
      expect(entries.map((e) => e.offset)).toEqual([...entries.map((e) => e.offset)].sort((a, b) => a - b));
    } finally {
      await spool.remove();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
