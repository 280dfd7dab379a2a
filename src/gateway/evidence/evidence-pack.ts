import { createHash } from 'node:crypto';
import { createReadStream, existsSync, promises as fsp } from 'node:fs';
import path from 'node:path';
import type { Signer } from '../identity/signing-key';
import { chainedEventFromRow } from '../store/audit-repo';
import type { EvidenceScope, EvidenceSessionRow, SqliteEvidenceRepo } from '../store/evidence-repo';
import { csvRow, type CsvCell } from './csv';
import {
  CHAIN,
  CHECKPOINTS,
  installationIdOf,
  keyFingerprint,
  MANIFEST,
  PACK_FORMAT,
  POLICY,
  POLICY_VERSIONS,
  castPath,
  recordingPath,
  REPORT,
  REVIEWS,
  SIGNATURE,
  signatureFile,
  SUMS,
  sumsFile,
  type PackManifest,
} from './pack-format';
import { PackWriter } from './pack-writer';
import { DeflateSpool, type SpooledEntry } from './spool';
import { STATEMENT_ROW, STATEMENT_ROW_COLUMNS, StatementLines } from './statement-lines';
import { detectorOfCountKey } from '../store/reviews-repo';
import { renderReport, type AgentActivity, type ReportData } from './report-html';

/** Progress of an export: a phase (the file being written) and how far it is. */
export interface EvidenceProgress {
  phase: string;
  done: number;
  total: number;
}

export interface EvidenceExportOptions {
  evidence: SqliteEvidenceRepo;
  signer: Signer;
  /** Where to write the zip (must not exist). */
  file: string;
  scope: EvidenceScope;
  exportId: string;
  version: string;
  /** The data dir, where SSH recordings (asciicast files) live. */
  dataDir?: string;
  /** The store's own installation id, recorded alongside the key-derived one. */
  storeInstallationId: string | null;
  now?: () => number;
  /**
   * DEFLATE level (default 3: at a million statements about half the compression time of level 6, for a
   * pack about a fifth bigger; zlib's levels 1-3 share one fast matcher and 3 packs tightest of them).
   */
  level?: 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8 | 9;
  /** Rows read per query (default 2000). */
  pageSize?: number;
  /** Write ZIP64 structures even where nothing needs them (tests; see ZipWriter). */
  forceZip64?: boolean;
  onProgress?: (p: EvidenceProgress) => void;
}

export interface EvidenceExportResult {
  file: string;
  bytes: number;
  manifest: PackManifest;
  /** SHA-256 (hex) of manifest.json's bytes, as signed. */
  manifestSha256: string;
}

const DEFAULT_LEVEL = 3;

const iso = (ms: unknown) => (typeof ms === 'number' ? new Date(ms).toISOString() : null);

const SESSION_COLUMNS = ['id', 'protocol', 'agent_name', 'connection_name', 'client_address', 'tls', 'started_at', 'ended_at', 'end_reason', 'bytes_in', 'bytes_out', 'statement_count', 'recording_purged_at'];
const sessionCells = (s: EvidenceSessionRow): CsvCell[] => [
  s.id, s.protocol, s.agent_name, s.connection_name, s.client_addr, s.tls !== 0, iso(s.started_at), iso(s.ended_at), s.end_reason, s.bytes_in, s.bytes_out, s.statement_count, iso(s.recording_purged_at),
];
const sessionJson = (s: EvidenceSessionRow) => ({
  id: s.id,
  protocol: s.protocol,
  agentName: s.agent_name,
  connectionName: s.connection_name,
  clientAddress: s.client_addr,
  tls: s.tls !== 0,
  startedAt: iso(s.started_at),
  endedAt: iso(s.ended_at),
  endReason: s.end_reason,
  bytesIn: s.bytes_in,
  bytesOut: s.bytes_out,
  statementCount: s.statement_count,
  recordingPurgedAt: iso(s.recording_purged_at),
});

const APPROVAL_COLUMNS = ['id', 'session_id', 'agent_name', 'connection_name', 'protocol', 'requested_at', 'expires_at', 'status', 'decided_by', 'decided_at', 'reason', 'scope', 'scope_until', 'rule', 'message', 'statement'];
const TIME_COLUMNS = new Set(['requested_at', 'expires_at', 'decided_at', 'scope_until', 'started_at', 'grant_created_at', 'grant_expires_at', 'grant_revoked_at', 'review_completed_at', 'new_expires_at']);
const snakeToCamel = (s: string) => s.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
/** A row of optional-feature columns for CSV (times as ISO) and JSON (camelCase keys). */
const cellOf = (col: string, v: unknown): CsvCell => (TIME_COLUMNS.has(col) ? iso(v) : (v as CsvCell));
const jsonOf = (cols: readonly string[], r: Record<string, unknown>) => Object.fromEntries(cols.map((c) => [snakeToCamel(c), TIME_COLUMNS.has(c) ? iso(r[c]) : (r[c] ?? null)]));

const ENTITLEMENT_COLUMNS = [
  'grant_id', 'agent_name', 'connection_name', 'grant_created_at', 'grant_expires_at', 'grant_revoked_at', 'granted_by', 'sessions_in_period', 'statements_in_period',
  'review_id', 'review_name', 'review_completed_at', 'decision', 'new_expires_at', 'comment', 'decided_by', 'decided_at',
];
const BLOCK_COLUMNS = ['session_id', 'seq', 'agent_name', 'connection_name', 'started_at', 'policy_rule', 'error_code', 'sql'];
/** Audit kinds counted as refusals in the report. */
const REFUSAL_KINDS = ['auth.failed', 'access.denied', 'upstream.failed', 'protocol.violation'];
/** Rows per table in report.html (the CSVs hold all). */
const REPORT_ROWS = 200;

/**
 * Write an evidence pack for a period and scope: CSV + JSON Lines of sessions, statements, entitlements
 * and decisions, approvals and blocks; each PostgreSQL session's timeline; the audit chain segment of the
 * period with its checkpoints; report.html; SHA256SUMS; manifest.json (hashes of every file) and
 * manifest.sig (its Ed25519 signature and the public key). Rows are read in pages and streamed into the
 * zip, so memory stays flat however many statements the period holds. On failure the partial file is
 * removed.
 */
export async function exportEvidencePack(opts: EvidenceExportOptions): Promise<EvidenceExportResult> {
  const now = opts.now ?? Date.now;
  const createdAt = now();
  const writer = new PackWriter(opts.file, { level: opts.level ?? DEFAULT_LEVEL, mtime: new Date(createdAt), forceZip64: opts.forceZip64 });
  const spools: DeflateSpool[] = [];
  try {
    const manifest = await writePack(writer, opts, createdAt, spools);
    const manifestText = JSON.stringify(manifest, null, 2) + '\n';
    await writer.add(MANIFEST, manifestText);
    await writer.add(SIGNATURE, signatureFile(opts.signer.publicKey, opts.signer.sign(manifestText)));
    opts.onProgress?.({ phase: 'done', done: 1, total: 1 });
    await writer.finish();
    const { size } = await fsp.stat(opts.file);
    return { file: opts.file, bytes: size, manifest, manifestSha256: createHash('sha256').update(manifestText).digest('hex') };
  } catch (err) {
    writer.abort();
    throw err;
  } finally {
    for (const sp of spools) await sp.remove();
  }
}

async function writePack(writer: PackWriter, opts: EvidenceExportOptions, createdAt: number, spools: DeflateSpool[]): Promise<PackManifest> {
  const { evidence: repo, scope } = opts;
  const page = opts.pageSize ?? 2000;
  const progress = (phase: string, done: number, total: number) => opts.onProgress?.({ phase, done, total });
  const totals = repo.totals(scope);
  const counts: Record<string, number> = {};
  const emptySections: Record<string, string> = {};
  const statementColumns = new Set(repo.columns('statements'));

  // Per-agent and per-day activity for the report, gathered while the rows stream by.
  const agents = new Map<string, AgentActivity & { connectionSet: Set<string> }>();
  const agentOf = (name: string) => {
    let a = agents.get(name);
    if (!a) agents.set(name, (a = { agent: name, connections: [], connectionSet: new Set(), sessions: 0, statements: 0, errors: 0, blocked: 0, approvals: 0, maskedValues: 0, commands: {} }));
    return a;
  };
  const days = new Map<string, { sessions: number; statements: number }>();
  /** The day's counters, by epoch ms or by an ISO time already formatted. */
  const dayOf = (t: number | string) => {
    const k = (typeof t === 'string' ? t : new Date(t).toISOString()).slice(0, 10);
    let d = days.get(k);
    if (!d) days.set(k, (d = { sessions: 0, statements: 0 }));
    return d;
  };

  /** Every session of the period, page by page. */
  async function* sessions(): AsyncGenerator<EvidenceSessionRow[]> {
    let after: { startedAt: number; id: string } | null = null;
    for (;;) {
      const rows = repo.sessionPage(scope, after, page);
      if (!rows.length) return;
      yield rows;
      await writer.drained();
      const last: EvidenceSessionRow = rows[rows.length - 1];
      after = { startedAt: last.started_at, id: last.id };
    }
  }
  // sessions.csv / sessions.jsonl
  {
    const csv = writer.entry('sessions.csv');
    csv.write(csvRow(SESSION_COLUMNS));
    let n = 0;
    for await (const rows of sessions()) {
      for (const s of rows) {
        csv.write(csvRow(sessionCells(s)));
        const a = agentOf(s.agent_name);
        a.sessions++;
        a.connectionSet.add(s.connection_name);
        dayOf(s.started_at).sessions++;
      }
      n += rows.length;
      progress('sessions', n, totals.sessions);
    }
    csv.end();
    counts.sessions = n;
    const jsonl = writer.entry('sessions.jsonl');
    for await (const rows of sessions()) for (const s of rows) jsonl.write(JSON.stringify(sessionJson(s)) + '\n');
    jsonl.end();
  }

  // statements.csv, statements.jsonl, recordings/<session>.jsonl from ONE read of the statements: a zip
  // is written one entry after another, so while statements.csv streams into the zip, statements.jsonl
  // and the recordings are compressed (zlib's thread pool) into two temp files next to the pack (0600,
  // removed at the end), then copied in as they are.
  const level = opts.level ?? DEFAULT_LEVEL;
  const lines = new StatementLines(statementColumns);
  let maskedValues = 0;
  const maskedByDetector: Record<string, number> = {};
  const jsonSpool = new DeflateSpool(`${opts.file}.statements.tmp`, level);
  const recSpool = new DeflateSpool(`${opts.file}.recordings.tmp`, level);
  spools.push(jsonSpool, recSpool);
  /** Each session's recording in the spool, in session order (SSH sessions have none). */
  const recordings: { id: string; protocol: string; purged: boolean; spooled: SpooledEntry | null }[] = [];
  let statementsJsonl: SpooledEntry;
  {
    const csv = writer.entry('statements.csv');
    csv.write(lines.csvHeader());
    jsonSpool.begin();
    let n = 0;
    let errors = 0;
    const pageRows = Math.max(page, 1);
    for await (const sessionRows of sessions()) {
      for (const se of sessionRows) {
        const a = agentOf(se.agent_name);
        // A recording removed by retention has no file (its removal is a chained recording.purged event).
        const recorded = se.protocol === 'postgres' && !se.recording_purged_at;
        if (recorded) recSpool.begin();
        lines.session(se.id, se.agent_name, se.connection_name);
        let statements = 0;
        let blocked = 0;
        let failed = 0;
        let masked = 0;
        let afterSeq = 0;
        for (;;) {
          const rows = repo.statementRows(se.id, afterSeq, pageRows, STATEMENT_ROW_COLUMNS);
          if (!rows.length) break;
          let day = '';
          let dayCount = 0;
          for (const r of rows) {
            lines.format(r);
            // Each line straight into its file's UTF-8 buffer (no page-sized strings to join).
            csv.write(lines.csv);
            jsonSpool.write(lines.json);
            // Exactly the lines the session digest hashes: the file's SHA-256 is the digest chained at its end.
            if (recorded) recSpool.write(lines.digest);
            a.commands[lines.command] = (a.commands[lines.command] ?? 0) + 1;
            if (r[STATEMENT_ROW.errorCode] !== null) failed++;
            if (r[STATEMENT_ROW.policyAction] === 'block') blocked++;
            const mv = r[STATEMENT_ROW.maskedValues];
            if (typeof mv === 'number') masked += mv;
            if (lines.maskedBy) {
              for (const [k, v] of Object.entries(lines.maskedBy)) {
                const d = detectorOfCountKey(k);
                maskedByDetector[d] = (maskedByDetector[d] ?? 0) + v;
              }
            }
            if (lines.day !== day) {
              if (dayCount) dayOf(day).statements += dayCount;
              day = lines.day;
              dayCount = 0;
            }
            dayCount++;
          }
          if (dayCount) dayOf(day).statements += dayCount;
          statements += rows.length;
          n += rows.length;
          afterSeq = rows[rows.length - 1][STATEMENT_ROW.seq] as number;
          progress('statements', n, totals.statements);
          await writer.drained();
          await jsonSpool.drained();
          await recSpool.drained();
          if (rows.length < pageRows) break;
        }
        a.statements += statements;
        a.errors += failed;
        a.blocked += blocked;
        a.maskedValues += masked;
        errors += failed;
        maskedValues += masked;
        recordings.push({ id: se.id, protocol: se.protocol, purged: Boolean(se.recording_purged_at), spooled: recorded ? recSpool.end() : null });
      }
    }
    csv.end();
    statementsJsonl = jsonSpool.end();
    counts.statements = n;
    counts.statementErrors = errors;
    counts.maskedValues = maskedValues;
  }
  await jsonSpool.close();
  await writer.addCompressed('statements.jsonl', statementsJsonl, jsonSpool.read(statementsJsonl));
  {
    await recSpool.close();
    let files = 0;
    let casts = 0;
    let sshMissing = 0;
    for (const se of recordings) {
      if (se.protocol === 'ssh') {
        if (se.purged) continue;
        // SSH channels as their asciicast v2 files, copied as recorded (relative to the data dir).
        for (const r of repo.sshRecordings(se.id)) {
          const src = opts.dataDir ? path.resolve(opts.dataDir, r.file) : null;
          if (!src || !existsSync(src)) {
            sshMissing++;
            continue;
          }
          const entry = writer.entry(castPath(se.id, r.channel_id));
          for await (const chunk of createReadStream(src, { highWaterMark: 256 * 1024 }) as AsyncIterable<Buffer>) {
            entry.write(chunk);
            await writer.drained();
          }
          entry.end();
          casts++;
        }
        continue;
      }
      if (!se.spooled) continue;
      await writer.addCompressed(recordingPath(se.id), se.spooled, recSpool.read(se.spooled));
      files++;
      if (files % 100 === 0) progress('recordings', files, recordings.length);
    }
    counts.recordings = files;
    counts.sshRecordings = casts;
    if (sshMissing) counts.sshRecordingsMissing = sshMissing;
    if (!repo.hasTable('ssh_recordings')) emptySections.sshRecordings = 'This installation does not record SSH sessions yet; the pack has no asciicast files.';
  }

  // reviews.jsonl and entitlements-and-decisions.{csv,jsonl}
  const reviews = repo.reviews(scope);
  {
    const e = writer.entry(REVIEWS);
    for (const r of reviews) {
      e.write(
        JSON.stringify({
          id: r.id,
          name: r.name,
          periodStart: iso(r.period_start),
          periodEnd: iso(r.period_end),
          scope: JSON.parse(String(r.scope)),
          createdAt: iso(r.created_at),
          createdBy: r.created_by,
          completedAt: iso(r.completed_at),
          completedBy: r.completed_by,
          digest: r.digest,
          signature: r.signature,
          publicKey: r.public_key,
          // The exact text the digest was computed over (decisions and evidence as signed), when kept.
          ...(typeof r.signed_body === 'string' ? { signedBody: r.signed_body } : {}),
        }) + '\n',
      );
    }
    e.end();
    counts.reviews = reviews.length;
  }
  const entitlements = repo.entitlements(scope);
  {
    const csv = writer.entry('entitlements-and-decisions.csv');
    csv.write(csvRow(ENTITLEMENT_COLUMNS));
    for (const r of entitlements) csv.write(csvRow(ENTITLEMENT_COLUMNS.map((c) => cellOf(c, r[c]))));
    csv.end();
    const jsonl = writer.entry('entitlements-and-decisions.jsonl');
    for (const r of entitlements) jsonl.write(JSON.stringify(jsonOf(ENTITLEMENT_COLUMNS, r)) + '\n');
    jsonl.end();
    counts.entitlements = entitlements.length;
    progress('entitlements', entitlements.length, entitlements.length);
  }

  // approvals.{csv,jsonl}: present but empty until this store has approvals.
  const approvalsByStatus: Record<string, number> = {};
  const approvalSample: Record<string, unknown>[] = [];
  {
    const has = repo.hasTable('approvals');
    if (!has) emptySections.approvals = 'This installation does not record approvals yet (no approvals table in its store); approvals.csv and approvals.jsonl are empty.';
    const cols = has ? APPROVAL_COLUMNS.filter((c) => repo.columns('approvals').includes(c)) : APPROVAL_COLUMNS;
    const csv = writer.entry('approvals.csv');
    csv.write(csvRow(cols));
    let n = 0;
    let after: { requestedAt: number; id: string } | null = null;
    for (;;) {
      const rows = repo.approvalPage(scope, after, page);
      if (!rows.length) break;
      for (const r of rows) {
        csv.write(csvRow(cols.map((c) => cellOf(c, r[c]))));
        approvalsByStatus[String(r.status)] = (approvalsByStatus[String(r.status)] ?? 0) + 1;
        const a = agentOf(String(r.agent_name));
        a.approvals++;
        if (approvalSample.length < REPORT_ROWS) approvalSample.push({ ...r, requested_at: iso(r.requested_at) });
      }
      n += rows.length;
      const last = rows[rows.length - 1];
      after = { requestedAt: last.requested_at as number, id: last.id as string };
      await writer.drained();
    }
    csv.end();
    const jsonl = writer.entry('approvals.jsonl');
    after = null;
    for (;;) {
      const rows = repo.approvalPage(scope, after, page);
      if (!rows.length) break;
      for (const r of rows) jsonl.write(JSON.stringify(jsonOf(cols, r)) + '\n');
      const last = rows[rows.length - 1];
      after = { requestedAt: last.requested_at as number, id: last.id as string };
      await writer.drained();
    }
    jsonl.end();
    counts.approvals = n;
    progress('approvals', n, n);
  }

  // blocks.{csv,jsonl}: statements policy blocked.
  const blocksByRule: Record<string, number> = {};
  const blockSample: Record<string, unknown>[] = [];
  {
    if (!statementColumns.has('policy_action')) emptySections.blocks = 'This installation does not record policy decisions yet (no policy columns on statements); blocks.csv and blocks.jsonl are empty.';
    for (const [file, json] of [['blocks.csv', false], ['blocks.jsonl', true]] as const) {
      const e = writer.entry(file);
      if (!json) e.write(csvRow(BLOCK_COLUMNS));
      let afterId = 0;
      let n = 0;
      for (;;) {
        const rows = repo.blockPage(scope, afterId, page);
        if (!rows.length) break;
        for (const r of rows) {
          if (json) e.write(JSON.stringify(jsonOf(BLOCK_COLUMNS, r)) + '\n');
          else {
            e.write(csvRow(BLOCK_COLUMNS.map((c) => cellOf(c, r[c]))));
            blocksByRule[String(r.policy_rule ?? '(no rule)')] = (blocksByRule[String(r.policy_rule ?? '(no rule)')] ?? 0) + 1;
            if (blockSample.length < REPORT_ROWS) blockSample.push({ ...r, started_at: iso(r.started_at) });
          }
        }
        n += rows.length;
        afterId = rows[rows.length - 1].id;
        await writer.drained();
      }
      e.end();
      counts.blocks = n;
    }
  }
  if (!statementColumns.has('masked_values')) emptySections.masking = 'This installation does not mask result values yet (no masking columns on statements); masked value counts are zero.';

  // audit/chain.jsonl and audit/checkpoints.jsonl: the period's segment of the hash chain.
  const seg = repo.auditSegment(scope.start, scope.end);
  let headHash: string | null = null;
  {
    const e = writer.entry(CHAIN);
    let afterId = seg.first - 1;
    let n = 0;
    for (;;) {
      const rows = repo.auditPage(afterId, seg.last, page);
      if (!rows.length) break;
      for (const r of rows) {
        e.write(
          JSON.stringify(chainedEventFromRow(r)) + '\n',
        );
        headHash = r.hash;
      }
      n += rows.length;
      afterId = rows[rows.length - 1].id;
      progress('audit', n, Math.max(n, seg.last - seg.first + 1));
      await writer.drained();
    }
    e.end();
    counts.auditEvents = n;
    const checkpoints = repo.checkpoints(seg.first, seg.last);
    const c = writer.entry(CHECKPOINTS);
    for (const k of checkpoints) {
      c.write(JSON.stringify({ id: k.id, eventId: k.event_id, eventHash: k.event_hash, at: k.at, publicKey: k.public_key, signature: k.signature }) + '\n');
    }
    c.end();
    counts.checkpoints = checkpoints.length;
  }

  // policy/policy.yaml (in force at the period's end) and policy/versions.jsonl (every version in force
  // during the period), when this store keeps policies.
  let policy: PackManifest['policy'] = null;
  if (repo.hasTable('policies')) {
    const versions = repo.policyVersions(scope.start, scope.end);
    const last = versions[versions.length - 1];
    await writer.add(POLICY, last ? last.yaml : `# No policy was in force at ${new Date(scope.end).toISOString()}: every statement was allowed.\n`);
    const e = writer.entry(POLICY_VERSIONS);
    for (const v of versions) e.write(JSON.stringify({ version: v.version, sha256: v.sha256, appliedAt: iso(v.applied_at), appliedBy: v.applied_by }) + '\n');
    e.end();
    policy = last ? { version: last.version, sha256: last.sha256, appliedAt: iso(last.applied_at)!, appliedBy: last.applied_by } : null;
    counts.policyVersions = versions.length;
  } else {
    emptySections.policy = 'This installation has no policy files yet (no policies table in its store); the pack has no policy/ folder.';
  }

  // report.html
  const refusals: Record<string, number> = {};
  let refusalCount = 0;
  for (const r of repo.auditCounts(scope, REFUSAL_KINDS)) {
    refusals[r.kind] = (refusals[r.kind] ?? 0) + r.n;
    refusalCount += r.n;
  }
  counts.refusals = refusalCount;
  const fingerprint = keyFingerprint(opts.signer.publicKey);
  const installationId = installationIdOf(opts.signer.publicKey);
  const period = { start: new Date(scope.start).toISOString(), end: new Date(scope.end).toISOString() };
  const scopeOut = { agents: [...scope.agents], connections: [...scope.connections] };
  {
    const report: ReportData = {
      generator: `Gatehouse ${opts.version}`,
      installationId,
      keyFingerprint: fingerprint,
      createdAt: new Date(createdAt).toISOString(),
      period,
      scope: scopeOut,
      counts,
      perAgent: [...agents.values()]
        .map(({ connectionSet, ...a }) => ({ ...a, connections: [...connectionSet].sort() }))
        .sort((x, y) => y.statements - x.statements || x.agent.localeCompare(y.agent)),
      maskedByDetector,
      perDay: everyDay(scope.start, scope.end, days),
      entitlements: entitlements.map((r) => ({ ...r, decided_at: iso(r.decided_at) })),
      reviews: reviews.map((r) => {
        const items = entitlements.filter((e) => e.review_id === r.id);
        return {
          name: String(r.name),
          period: `${iso(r.period_start)!.slice(0, 10)} .. ${iso(r.period_end)!.slice(0, 10)}`,
          completedAt: iso(r.completed_at),
          completedBy: (r.completed_by as string | null) ?? null,
          decided: items.filter((i) => i.decision !== null).length,
          total: items.length,
          signed: r.signature !== null,
        };
      }),
      approvalsByStatus,
      approvals: approvalSample,
      blocksByRule,
      blocks: blockSample,
      refusals,
      emptySections,
      policy,
      tableLimit: REPORT_ROWS,
    };
    await writer.add(REPORT, renderReport(report));
    progress('report', 1, 1);
  }

  const files = [...writer.written];
  const sums = await writer.add(SUMS, sumsFile(files));
  return {
    format: PACK_FORMAT,
    generator: { name: 'gatehouse', version: opts.version },
    installation: { id: installationId, publicKeyFingerprint: fingerprint, storeInstallationId: opts.storeInstallationId },
    createdAt: new Date(createdAt).toISOString(),
    exportId: opts.exportId,
    period,
    scope: scopeOut,
    query: {
      period: `${period.start} .. ${period.end} (inclusive)`,
      agents: scopeOut.agents.length ? scopeOut.agents.join(', ') : '(all)',
      connections: scopeOut.connections.length ? scopeOut.connections.join(', ') : '(all)',
      sessions: 'sessions that started in the period, of the agents and connections in scope',
      statements: 'every statement of those sessions',
      entitlements: 'grants in force at some point of the period, with the review decisions taken on them',
      approvals: 'approval requests made in the period',
      blocks: 'statements of those sessions that policy blocked',
      audit: 'every audit event recorded in the period, of any agent (the hash chain needs each one), with the signed checkpoints of those events',
    },
    counts,
    emptySections,
    policy,
    audit: { firstEventId: seg.first, lastEventId: seg.last, events: counts.auditEvents, checkpoints: counts.checkpoints, anchorHash: seg.anchorHash, headHash },
    files: [...files, sums],
  };
}

/** Activity per day over the whole period (quiet days as zero), or only the active days of a period over 400 days. */
function everyDay(start: number, end: number, days: Map<string, { sessions: number; statements: number }>): { day: string; sessions: number; statements: number }[] {
  const first = Date.parse(new Date(start).toISOString().slice(0, 10));
  if ((end - first) / 86_400_000 > 400) return [...days.entries()].sort(([x], [y]) => x.localeCompare(y)).map(([day, d]) => ({ day, ...d }));
  const out: { day: string; sessions: number; statements: number }[] = [];
  for (let t = first; t <= end; t += 86_400_000) {
    const day = new Date(t).toISOString().slice(0, 10);
    out.push({ day, ...(days.get(day) ?? { sessions: 0, statements: 0 }) });
  }
  return out;
}
