/**
 * report.html of an evidence pack: one self-contained page for an auditor. Inline CSS, charts drawn here
 * as inline SVG, no script, and a Content-Security-Policy that forbids every network load, so the report
 * opens the same on an air-gapped laptop as anywhere else.
 */

export interface AgentActivity {
  agent: string;
  connections: string[];
  sessions: number;
  statements: number;
  errors: number;
  blocked: number;
  approvals: number;
  maskedValues: number;
  /** Statements by command (SELECT, INSERT, ..., ERROR, OTHER). */
  commands: Record<string, number>;
}

export interface ReportData {
  generator: string;
  installationId: string;
  keyFingerprint: string;
  createdAt: string;
  period: { start: string; end: string };
  scope: { agents: string[]; connections: string[] };
  counts: Record<string, number>;
  perAgent: AgentActivity[];
  /** Masked values in statement results by detector (column rules as column:<rule>). */
  maskedByDetector: Record<string, number>;
  perDay: { day: string; sessions: number; statements: number }[];
  entitlements: Record<string, unknown>[];
  reviews: { name: string; period: string; completedAt: string | null; completedBy: string | null; decided: number; total: number; signed: boolean }[];
  approvalsByStatus: Record<string, number>;
  approvals: Record<string, unknown>[];
  blocksByRule: Record<string, number>;
  blocks: Record<string, unknown>[];
  refusals: Record<string, number>;
  emptySections: Record<string, string>;
  policy: { version: number; sha256: string; appliedAt: string; appliedBy: string } | null;
  /** Rows shown per table; the CSV files hold all of them. */
  tableLimit: number;
}

const esc = (v: unknown): string =>
  String(v ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
const num = (n: number) => n.toLocaleString('en-US');
const COLORS: Record<string, string> = {
  SELECT: '#2f6fb3',
  INSERT: '#3a9a5b',
  UPDATE: '#d68a1c',
  DELETE: '#c2413b',
  ERROR: '#7a3b8f',
  OTHER: '#8a8f98',
};
const colorOf = (cmd: string, i: number) => COLORS[cmd] ?? ['#4c9aa8', '#a86b4c', '#6b4ca8', '#9aa84c'][i % 4];

/** Daily statements (bars) and sessions (dots) over the period. */
function dailyChart(days: ReportData['perDay']): string {
  if (!days.length) return '<p class="muted">No activity in this period.</p>';
  const w = 880;
  const h = 180;
  const pad = { l: 56, r: 12, t: 10, b: 28 };
  const max = Math.max(1, ...days.map((d) => d.statements));
  const maxS = Math.max(1, ...days.map((d) => d.sessions));
  // One slot per day of the period; a short period gets narrow bars rather than one wall of colour.
  const bw = Math.min(36, (w - pad.l - pad.r) / days.length);
  const y = (v: number) => pad.t + (h - pad.t - pad.b) * (1 - v / max);
  const ys = (v: number) => pad.t + (h - pad.t - pad.b) * (1 - v / maxS);
  const bars = days
    .map((d, i) => {
      const x = pad.l + i * bw;
      return `<rect x="${x.toFixed(1)}" y="${y(d.statements).toFixed(1)}" width="${Math.max(1, bw - 1).toFixed(1)}" height="${(h - pad.b - y(d.statements)).toFixed(1)}" fill="#2f6fb3"><title>${esc(d.day)}: ${num(d.statements)} statements, ${num(d.sessions)} sessions</title></rect>` +
        `<circle cx="${(x + bw / 2).toFixed(1)}" cy="${ys(d.sessions).toFixed(1)}" r="2" fill="#d68a1c"/>`;
    })
    .join('');
  return `<svg class="chart" viewBox="0 0 ${w} ${h}" role="img" aria-label="statements and sessions per day">
<line x1="${pad.l}" y1="${h - pad.b}" x2="${w - pad.r}" y2="${h - pad.b}" stroke="#999"/>
<text x="${pad.l - 6}" y="${pad.t + 8}" text-anchor="end">${num(max)}</text><text x="${pad.l - 6}" y="${h - pad.b}" text-anchor="end">0</text>
${bars}
<text x="${pad.l}" y="${h - 8}">${esc(days[0].day)}</text>${days.length > 1 ? `<text x="${Math.max(pad.l + days.length * bw, pad.l + 150).toFixed(1)}" y="${h - 8}" text-anchor="end">${esc(days[days.length - 1].day)}</text>` : ''}
</svg>
<p class="legend"><span style="background:#2f6fb3"></span>statements per day (scale 0–${num(max)}) <span style="background:#d68a1c;border-radius:50%"></span>sessions per day (scale 0–${num(maxS)})</p>`;
}

/** Statements per agent, stacked by command. */
function agentChart(agents: AgentActivity[]): string {
  if (!agents.length) return '';
  const commands = [...new Set(agents.flatMap((a) => Object.keys(a.commands)))].sort();
  const w = 880;
  const row = 22;
  const label = 180;
  const h = agents.length * row + 8;
  const max = Math.max(1, ...agents.map((a) => a.statements));
  const scale = (w - label - 80) / max;
  const rows = agents
    .map((a, i) => {
      let x = label;
      const y = 4 + i * row;
      const segs = commands
        .map((c, ci) => {
          const n = a.commands[c] ?? 0;
          if (!n) return '';
          const seg = `<rect x="${x.toFixed(1)}" y="${y}" width="${Math.max(1, n * scale).toFixed(1)}" height="${row - 6}" fill="${colorOf(c, ci)}"><title>${esc(a.agent)}: ${num(n)} ${esc(c)}</title></rect>`;
          x += n * scale;
          return seg;
        })
        .join('');
      return `<text x="${label - 6}" y="${y + 12}" text-anchor="end">${esc(a.agent)}</text>${segs}<text x="${(x + 6).toFixed(1)}" y="${y + 12}">${num(a.statements)}</text>`;
    })
    .join('');
  const legend = commands.map((c, ci) => `<span style="background:${colorOf(c, ci)}"></span>${esc(c)}`).join(' ');
  return `<svg class="chart" viewBox="0 0 ${w} ${h}" role="img" aria-label="statements per agent by command">${rows}</svg><p class="legend">${legend}</p>`;
}

/** A small horizontal bar chart of counts by key. */
function countChart(counts: Record<string, number>, label: string): string {
  const entries = Object.entries(counts).sort((a, b) => b[1] - a[1]);
  if (!entries.length) return '';
  const w = 880;
  const row = 20;
  const h = entries.length * row + 6;
  const max = Math.max(1, ...entries.map(([, n]) => n));
  const scale = (w - 260) / max;
  const rows = entries
    .map(([k, n], i) => `<text x="194" y="${i * row + 15}" text-anchor="end">${esc(k)}</text><rect x="200" y="${i * row + 4}" width="${Math.max(1, n * scale).toFixed(1)}" height="${row - 6}" fill="#2f6fb3"/><text x="${(206 + n * scale).toFixed(1)}" y="${i * row + 15}">${num(n)}</text>`)
    .join('');
  return `<svg class="chart" viewBox="0 0 ${w} ${h}" role="img" aria-label="${esc(label)}">${rows}</svg>`;
}

function table(rows: Record<string, unknown>[], columns: [key: string, title: string][], limit: number, total: number, file: string): string {
  if (!rows.length) return '<p class="muted">None.</p>';
  const head = columns.map(([, t]) => `<th>${esc(t)}</th>`).join('');
  const body = rows
    .slice(0, limit)
    .map((r) => `<tr>${columns.map(([k]) => `<td>${esc(r[k] ?? '')}</td>`).join('')}</tr>`)
    .join('\n');
  const more = total > limit ? `<p class="muted">Showing ${num(limit)} of ${num(total)}; all rows are in ${esc(file)}.</p>` : '';
  return `<table><thead><tr>${head}</tr></thead><tbody>${body}</tbody></table>${more}`;
}

function emptyNote(data: ReportData, section: string): string {
  const why = data.emptySections[section];
  return why ? `<p class="note">${esc(why)}</p>` : '';
}

/** The whole report page. */
export function renderReport(d: ReportData): string {
  const c = d.counts;
  const card = (label: string, value: number) => `<div class="card"><div class="v">${num(value)}</div><div class="l">${esc(label)}</div></div>`;
  const scope = [d.scope.agents.length ? `agents: ${d.scope.agents.join(', ')}` : 'all agents', d.scope.connections.length ? `connections: ${d.scope.connections.join(', ')}` : 'all connections'].join('; ');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Gatehouse evidence: ${esc(d.period.start.slice(0, 10))} to ${esc(d.period.end.slice(0, 10))}</title>
<style>
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1d2430;margin:0;background:#f5f6f8}
main{max-width:960px;margin:0 auto;padding:24px 28px 48px;background:#fff;min-height:100vh}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid #e2e5ea;padding-bottom:4px}
.muted,.meta{color:#5d6675}.meta{font-size:12.5px}.note{background:#fff7e0;border:1px solid #f0dfa8;padding:6px 10px;border-radius:4px;font-size:13px}
.cards{display:flex;flex-wrap:wrap;gap:10px;margin:14px 0}.card{border:1px solid #e2e5ea;border-radius:6px;padding:8px 14px;min-width:110px}
.card .v{font-size:20px;font-weight:600}.card .l{color:#5d6675;font-size:12px}
table{border-collapse:collapse;width:100%;font-size:12.5px;margin:6px 0}th,td{border-bottom:1px solid #eceef2;padding:4px 6px;text-align:left;vertical-align:top}
th{background:#f3f4f7;font-weight:600}td{word-break:break-word}
svg.chart{width:100%;height:auto;font-size:11px;fill:#1d2430}
.legend{font-size:12px;color:#5d6675}.legend span{display:inline-block;width:10px;height:10px;margin:0 4px 0 10px;vertical-align:middle}
code{font-size:12px;background:#f3f4f7;padding:1px 4px;border-radius:3px}
@media print{body{background:#fff}main{padding:0}}
</style>
</head>
<body>
<main>
<h1>Evidence of agent access</h1>
<p class="meta">Period <b>${esc(d.period.start)}</b> to <b>${esc(d.period.end)}</b> · ${esc(scope)}<br>
Installation <code>${esc(d.installationId)}</code> · signing key SHA-256 <code>${esc(d.keyFingerprint)}</code><br>
Generated ${esc(d.createdAt)} by ${esc(d.generator)}. Verify this pack with <code>gatehouse verify FILE.zip</code> or the manual steps in docs/evidence.md.</p>

<h2>Summary</h2>
<div class="cards">${card('sessions', c.sessions ?? 0)}${card('statements', c.statements ?? 0)}${card('failed statements', c.statementErrors ?? 0)}${card('agents', d.perAgent.length)}${card('entitlements', c.entitlements ?? 0)}${card('approvals', c.approvals ?? 0)}${card('blocked', c.blocks ?? 0)}${card('masked values', c.maskedValues ?? 0)}${card('refusals', c.refusals ?? 0)}${card('audit events', c.auditEvents ?? 0)}</div>
${dailyChart(d.perDay)}

<h2>Activity per agent</h2>
${agentChart(d.perAgent)}
${table(
  d.perAgent.map((a) => ({ ...a, connections: a.connections.join(', '), commands: Object.entries(a.commands).map(([k, n]) => `${k} ${num(n)}`).join(', ') })),
  [['agent', 'agent'], ['connections', 'connections'], ['sessions', 'sessions'], ['statements', 'statements'], ['commands', 'by command'], ['errors', 'failed'], ['blocked', 'blocked'], ['approvals', 'approvals'], ['maskedValues', 'masked values']],
  d.tableLimit, d.perAgent.length, 'sessions.csv / statements.csv',
)}

<h2>Access reviews and decisions</h2>
${table(d.reviews.map((r) => ({ ...r, state: r.completedAt ? `completed ${r.completedAt} by ${r.completedBy}` : 'open', progress: `${r.decided}/${r.total}`, signed: r.signed ? 'yes' : 'no' })), [['name', 'review'], ['period', 'period'], ['progress', 'decided'], ['state', 'state'], ['signed', 'signed']], d.tableLimit, d.reviews.length, 'reviews.jsonl')}
<h3>Entitlements in force during the period</h3>
${table(d.entitlements, [['agent_name', 'agent'], ['connection_name', 'connection'], ['sessions_in_period', 'sessions'], ['statements_in_period', 'statements'], ['review_name', 'review'], ['decision', 'decision'], ['comment', 'comment'], ['decided_by', 'by'], ['decided_at', 'at']], d.tableLimit, d.entitlements.length, 'entitlements-and-decisions.csv')}

<h2>Policy</h2>
${emptyNote(d, 'policy')}
${d.policy ? `<p>Policy version ${d.policy.version} was in force at the end of the period (applied ${esc(d.policy.appliedAt)} by ${esc(d.policy.appliedBy)}, SHA-256 <code>${esc(d.policy.sha256)}</code>); its text is <code>policy/policy.yaml</code>, the versions in force during the period are in <code>policy/versions.jsonl</code>.</p>` : d.emptySections.policy ? '' : '<p class="muted">No policy was in force at the end of the period.</p>'}

<h2>Approvals</h2>
${emptyNote(d, 'approvals')}
${countChart(d.approvalsByStatus, 'approvals by outcome')}
${table(d.approvals, [['requested_at', 'requested'], ['agent_name', 'agent'], ['connection_name', 'connection'], ['rule', 'rule'], ['status', 'outcome'], ['decided_by', 'decided by'], ['reason', 'reason'], ['statement', 'statement']], d.tableLimit, c.approvals ?? 0, 'approvals.csv')}

<h2>Blocked by policy</h2>
${emptyNote(d, 'blocks')}
${countChart(d.blocksByRule, 'blocks by rule')}
${table(d.blocks, [['started_at', 'at'], ['agent_name', 'agent'], ['connection_name', 'connection'], ['policy_rule', 'rule'], ['sql', 'statement']], d.tableLimit, c.blocks ?? 0, 'blocks.csv')}

<h2>Masking</h2>
${emptyNote(d, 'masking')}
${countChart(Object.fromEntries(d.perAgent.filter((a) => a.maskedValues > 0).map((a) => [a.agent, a.maskedValues])), 'masked values per agent') || '<p class="muted">No value was masked in results returned during this period.</p>'}
${countChart(d.maskedByDetector, 'masked values by detector')}

<h2>Refusals</h2>
${countChart(d.refusals, 'refusals by kind') || '<p class="muted">No refused authentication or access in this period.</p>'}

<h2>What this pack contains</h2>
<p>CSV and JSON Lines files with every row summarised here (sessions, statements, entitlements and decisions, approvals, blocks), each PostgreSQL session's statement timeline under <code>recordings/</code>, the audit hash chain of the period with its signed checkpoints under <code>audit/</code>, and <code>manifest.json</code> with the SHA-256 of every file, signed by the installation key in <code>manifest.sig</code>. Result values never enter a pack unless masked.</p>
</main>
</body>
</html>
`;
}
