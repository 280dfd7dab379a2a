import { useVirtualizer } from '@tanstack/react-virtual';
import { lazy, Suspense, useCallback, useEffect, useMemo, useReducer, useRef, useState } from 'react';
import type { ApprovalDto, SessionDto, StatementDto } from '../../../../shared/contract';
import { SqlCode } from '../../components/sql-code';
import { useClient, useEvent, useResync } from '../../contract-client/client-context';
import { formatBytes, formatDuration, formatMs, formatTime } from '../../format';
import { TimelineBar } from '../../components/timeline-bar';
import { useNow } from '../../hooks/use-now';
import { routeHash } from '../../routes';
import { initialSession, sessionReducer } from './live-session';
import { statementAt, statementMarkers, statementOffsets, timelineDuration } from './statement-timeline';
import { parsePreview, statementDecision, type StatementDecision } from './statement-view';

// xterm.js is only loaded for SSH sessions.
const SshReplay = lazy(() => import('./replay/ssh-replay').then((m) => ({ default: m.SshReplay })));

const BADGE: Record<StatementDecision, string> = {
  blocked: 'blocked',
  denied: 'blocked',
  approved: 'held',
  held: 'held',
  masked: 'masked',
  error: 'bad',
  allowed: '',
};

/** Statements that come with the session (its first paint); the rest load in pages of PAGE. */
const FIRST_PAGE = 2000;
const PAGE = 5000;

/** Keep the deep link (`#/sessions/<id>?t=...`) in the address bar without a navigation. */
function rememberPosition(id: string, query: Record<string, string>): void {
  window.history.replaceState(window.history.state, '', routeHash({ screen: 'sessions', id, query }));
}

/**
 * One session: its facts, then for SSH the terminal player, for PostgreSQL its statements on a timeline
 * and in a table; live while the session is open. `query` is the deep link's `t` (seconds) or `seq`.
 */
export function SessionPage({ id, onBack, query }: { id: string; onBack: () => void; query?: Record<string, string> }) {
  const client = useClient();
  const [state, dispatch] = useReducer(sessionReducer, initialSession);
  const [approvals, setApprovals] = useState<Map<string, ApprovalDto>>(new Map());
  const [open, setOpen] = useState<Set<number>>(new Set());

  const [pageError, setPageError] = useState<string | null>(null);
  // Each load gets a number; pages of an older load (before a resync or another session) are dropped.
  const generation = useRef(0);
  const load = useCallback(() => {
    const mine = ++generation.current;
    const current = () => mine === generation.current;
    dispatch({ type: 'load' });
    setPageError(null);
    // The first statements come with the session (first paint), the rest page by page behind it.
    client.call('sessions.get', { id, statementLimit: FIRST_PAGE }).then(
      async (r) => {
        if (!current()) return;
        dispatch({ type: 'loaded', session: r.session, statements: r.statements, more: r.moreStatements });
        let more = r.moreStatements ?? false;
        let after = r.statements.length ? r.statements[r.statements.length - 1].seq : 0;
        while (more && current()) {
          try {
            const p = await client.call('sessions.statements', { id, afterSeq: after, limit: PAGE });
            if (!current()) return;
            more = p.more && p.statements.length > 0;
            if (p.statements.length) after = p.statements[p.statements.length - 1].seq;
            dispatch({ type: 'page', statements: p.statements, more });
          } catch (err) {
            if (!current()) return;
            setPageError((err as Error).message);
            dispatch({ type: 'page', statements: [], more: false });
            return;
          }
        }
      },
      (err: Error) => current() && dispatch({ type: 'failed', error: err.message }),
    );
  }, [client, id]);
  useEffect(load, [load]);
  useResync(load);
  const onSession = (session: SessionDto) => session.id === id && dispatch({ type: 'event', kind: 'session', session });
  useEvent('session.updated', onSession);
  useEvent('session.ended', onSession);
  useEvent('statement.recorded', (statement: StatementDto) => statement.sessionId === id && dispatch({ type: 'event', kind: 'statement', statement }));
  const onApproval = (a: ApprovalDto) => a.sessionId === id && setApprovals((m) => new Map(m).set(a.id, a));
  useEvent('approval.requested', onApproval);
  useEvent('approval.decided', onApproval);

  // The approval requests behind held statements (there is no approvals.get: read the recent history once).
  const needsApprovals = state.statements.some((s) => s.approvalId);
  useEffect(() => {
    if (!needsApprovals) return;
    client.call('approvals.list', { all: true, limit: 1000 }).then(
      (list) => setApprovals((m) => new Map([...list.filter((a) => a.sessionId === id).map((a) => [a.id, a] as const), ...m])),
      () => {},
    );
  }, [client, id, needsApprovals]);

  const s = state.session;
  const now = useNow(Boolean(s && !s.endedAt));
  const counts = useMemo(() => {
    const c: Partial<Record<StatementDecision, number>> = {};
    for (const st of state.statements) {
      const d = statementDecision(st, st.approvalId ? approvals.get(st.approvalId) : undefined);
      c[d] = (c[d] ?? 0) + 1;
    }
    return c;
  }, [state.statements, approvals]);
  const toggle = (sid: number) =>
    setOpen((cur) => {
      const next = new Set(cur);
      if (!next.delete(sid)) next.add(sid);
      return next;
    });

  // The statements timeline: a position in seconds and the statement it is on.
  const decisions = useMemo(() => state.statements.map((st) => statementDecision(st, st.approvalId ? approvals.get(st.approvalId) : undefined)), [state.statements, approvals]);
  const offsets = useMemo(() => (s ? statementOffsets(s, state.statements) : []), [s, state.statements]);
  const duration = s ? timelineDuration(s, state.statements, now) : 0;
  const deepT = query?.t !== undefined && Number.isFinite(Number(query.t)) ? Math.max(0, Number(query.t)) : undefined;
  const deepSeq = query?.seq !== undefined && /^\d+$/.test(query.seq) ? Number(query.seq) : undefined;
  const [position, setPosition] = useState(0);
  const [current, setCurrent] = useState(-1);
  const initialised = useRef(false);
  useEffect(() => {
    // A deep link may point past the first page: wait until every statement is in.
    if (initialised.current || !s || s.protocol === 'ssh' || state.status !== 'ready' || state.loadingMore || offsets.length === 0) return;
    initialised.current = true;
    const bySeq = deepSeq !== undefined ? state.statements.findIndex((st) => st.seq === deepSeq) : -1;
    if (bySeq >= 0) {
      setPosition(offsets[bySeq]);
      setCurrent(bySeq);
    } else if (deepT !== undefined) {
      setPosition(deepT);
      setCurrent(statementAt(offsets, deepT));
    }
  }, [s, state.status, state.loadingMore, state.statements, offsets, deepSeq, deepT]);
  const moveTo = (t: number, index: number) => {
    setPosition(t);
    setCurrent(index);
    const st = state.statements[index];
    if (st) rememberPosition(id, { seq: String(st.seq) });
  };
  const markers = useMemo(() => statementMarkers(offsets, decisions, duration, current), [offsets, decisions, duration, current]);
  const onReplayPosition = useCallback((t: number) => rememberPosition(id, { t: t.toFixed(1) }), [id]);

  return (
    <section className="screen" aria-labelledby="session-title">
      <header className="screen-header">
        <button className="link" onClick={onBack}>
          ← Sessions
        </button>
        <h1 id="session-title">{s ? `${s.agentName} on ${s.connectionName}` : 'Session'}</h1>
        {s && !s.endedAt && <span className="badge live">live</span>}
      </header>
      {state.status === 'loading' && <p className="muted">Loading session…</p>}
      {state.status === 'error' && (
        <p className="error" role="alert">
          Could not load this session: {state.error}{' '}
          <button className="link" onClick={load}>
            Try again
          </button>
        </p>
      )}
      {s && (
        <>
          <dl className="facts">
            <dt>Agent</dt>
            <dd>{s.agentName}</dd>
            <dt>Connection</dt>
            <dd>{s.connectionName}</dd>
            <dt>Client</dt>
            <dd className="mono">
              {s.clientAddress} {s.tls ? '(TLS)' : '(plain)'}
            </dd>
            <dt>Started</dt>
            <dd>{formatTime(s.startedAt)}</dd>
            <dt>Duration</dt>
            <dd>{formatDuration((s.endedAt ? Date.parse(s.endedAt) : now) - Date.parse(s.startedAt))}</dd>
            <dt>Ended</dt>
            <dd>{s.endedAt ? `${formatTime(s.endedAt)} (${s.endReason ?? 'ended'})` : 'still open'}</dd>
            <dt>Bytes in / out</dt>
            <dd>
              {formatBytes(s.bytesIn)} / {formatBytes(s.bytesOut)}
            </dd>
          </dl>
          {s.recordingPurgedAt && (
            <p className="banner" role="status">
              The recording of this session was removed on {formatTime(s.recordingPurgedAt)} by the recording retention setting. Who, where, when and the counts are
              kept, and the removal is in the audit trail.
            </p>
          )}
          {s.protocol === 'ssh' && !s.recordingPurgedAt && (
            <>
              <h2 className="section-title">Terminal replay</h2>
              <Suspense fallback={<p className="muted">Loading the player…</p>}>
                <SshReplay sessionId={s.id} initialT={deepT} onPosition={onReplayPosition} />
              </Suspense>
            </>
          )}
          {(s.protocol !== 'ssh' || state.statements.length > 0) && (
            <h2 className="section-title">
              Statements ({state.statements.length.toLocaleString()}
              {state.loadingMore && s.statementCount > state.statements.length ? ` of ${s.statementCount.toLocaleString()}, loading…` : state.loadingMore ? ', loading…' : ''})
              {Object.entries(counts)
                .filter(([d]) => d !== 'allowed')
                .map(([d, n]) => (
                  <span key={d} className={`badge ${BADGE[d as StatementDecision]} summary-badge`}>
                    {n} {d}
                  </span>
                ))}
            </h2>
          )}
          {state.statements.length === 0 ? (
            s.protocol !== 'ssh' && !s.recordingPurgedAt && <p className="muted">No statements in this session{s.endedAt ? '' : ' yet'}.</p>
          ) : (
            <>
              <TimelineBar
                duration={duration}
                value={Math.min(position, duration)}
                onSeek={(t) => moveTo(t, statementAt(offsets, t))}
                onStep={(dir) => {
                  const i = Math.min(offsets.length - 1, Math.max(0, current + dir));
                  moveTo(offsets[i], i);
                }}
                markers={markers}
                label="Statements timeline"
              />
              <StatementTable statements={state.statements} decisions={decisions} approvals={approvals} current={current} open={open} toggle={toggle} />
            </>
          )}
          {pageError && (
            <p className="error" role="alert">
              Only the first {state.statements.length.toLocaleString()} statements could be loaded: {pageError}{' '}
              <button className="link" onClick={load}>
                Try again
              </button>
            </p>
          )}
          {state.statements.length > 0 && <p className="muted small">Click a statement (or press Enter on it) to see its masked result preview and the approval behind it.</p>}
        </>
      )}
    </section>
  );
}

/**
 * The statements, virtualized (a session can hold tens of thousands): one <tbody> per statement, so a
 * statement and its opened details are measured together. The current statement of the timeline is
 * marked and scrolled into view.
 */
function StatementTable({
  statements,
  decisions,
  approvals,
  current,
  open,
  toggle,
}: {
  statements: StatementDto[];
  decisions: StatementDecision[];
  approvals: Map<string, ApprovalDto>;
  current: number;
  open: Set<number>;
  toggle: (id: number) => void;
}) {
  const scroller = useRef<HTMLDivElement>(null);
  const virtual = useVirtualizer({ count: statements.length, getScrollElement: () => scroller.current, estimateSize: () => 36, overscan: 12, getItemKey: (i) => statements[i].id });
  useEffect(() => {
    if (current >= 0 && current < statements.length) virtual.scrollToIndex(current, { align: 'auto' });
  }, [current, statements.length, virtual]);
  const items = virtual.getVirtualItems();
  const top = items.length ? items[0].start : 0;
  const bottom = items.length ? virtual.getTotalSize() - items[items.length - 1].end : 0;
  return (
    <div className="table-wrap virtual-scroll" ref={scroller}>
      <table className="grid statements" aria-label="Statements" aria-rowcount={statements.length + 1}>
        <thead>
          <tr>
            <th className="num">#</th>
            <th>Time</th>
            <th className="num">ms</th>
            <th>Decision</th>
            <th>Rule</th>
            <th>Result</th>
            <th className="num">Rows</th>
            <th className="num">Masked</th>
            <th>SQL</th>
          </tr>
        </thead>
        {top > 0 && (
          <tbody aria-hidden="true">
            <tr className="spacer" style={{ height: top }} />
          </tbody>
        )}
        {items.map((item) => {
          const st = statements[item.index];
          const approval = st.approvalId ? approvals.get(st.approvalId) : undefined;
          const decision = decisions[item.index];
          const expanded = open.has(st.id);
          return (
            <tbody key={item.key} data-index={item.index} ref={virtual.measureElement}>
              <tr
                data-statement={st.seq}
                className={item.index === current ? 'current' : undefined}
                aria-current={item.index === current ? 'true' : undefined}
                aria-rowindex={item.index + 2}
                tabIndex={0}
                aria-expanded={expanded}
                onClick={() => toggle(st.id)}
                onKeyDown={(e) => (e.key === 'Enter' || e.key === ' ') && (e.preventDefault(), toggle(st.id))}
              >
                <td className="num">{st.seq}</td>
                <td>{formatTime(st.startedAt)}</td>
                <td className="num">{formatMs(st.durationMs)}</td>
                <td>
                  <span className={`badge ${BADGE[decision]}`} data-decision={decision}>
                    {decision}
                  </span>
                </td>
                <td>{st.policyRule ? <code>{st.policyRule}</code> : ''}</td>
                <td>{st.errorCode ? <span className="badge bad">error {st.errorCode}</span> : (st.commandTag ?? '')}</td>
                <td className="num">{st.rows ?? ''}</td>
                <td className="num">{st.maskedValues ? st.maskedValues : ''}</td>
                <td className="mono sql">{st.sql}</td>
              </tr>
              {expanded && (
                <tr className="row-detail">
                  <td colSpan={9}>
                    <StatementDetail st={st} approval={approval} />
                  </td>
                </tr>
              )}
            </tbody>
          );
        })}
        {bottom > 0 && (
          <tbody aria-hidden="true">
            <tr className="spacer" style={{ height: bottom }} />
          </tbody>
        )}
      </table>
    </div>
  );
}

function StatementDetail({ st, approval }: { st: StatementDto; approval: ApprovalDto | undefined }) {
  const preview = parsePreview(st.resultPreview);
  return (
    <div className="statement-detail">
      <SqlCode sql={st.sql} />
      {st.approvalId && (
        <p className="approval-note" data-approval-note>
          {approval ? (
            <>
              Held by rule <code>{approval.rule}</code>; <strong>{approval.status.replace('_', ' ')}</strong>
              {approval.decidedBy ? ` by ${approval.decidedBy}` : ''}
              {approval.decidedAt ? ` at ${formatTime(approval.decidedAt)}` : ''}
              {approval.scope === 'session' && approval.scopeUntil ? ` (for this session until ${formatTime(approval.scopeUntil)})` : ''}
              {approval.reason ? `: ${approval.reason}` : ''}.
            </>
          ) : (
            <>Held for approval request {st.approvalId} (not in the recent approval history).</>
          )}
        </p>
      )}
      {preview ? (
        <div className="table-wrap preview">
          <table className="grid" aria-label={`Result preview of statement ${st.seq}`}>
            <thead>
              <tr>
                {preview.columns.map((c, i) => (
                  <th key={i}>{c}</th>
                ))}
              </tr>
            </thead>
            <tbody>
              {preview.rows.map((r, i) => (
                <tr key={i}>
                  {r.map((v, j) => (
                    <td key={j} className="mono">
                      {v === null ? <span className="muted">NULL</span> : v}
                    </td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
          <p className="muted small">
            First {preview.rows.length} row{preview.rows.length === 1 ? '' : 's'} as the client saw them{st.maskedValues ? ' (masked values replaced)' : ''}
            {preview.truncated ? '; preview truncated' : ''}.
          </p>
        </div>
      ) : (
        <p className="muted small">No result preview recorded for this statement.</p>
      )}
    </div>
  );
}
