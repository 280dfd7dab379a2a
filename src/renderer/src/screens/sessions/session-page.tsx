import { Fragment, useCallback, useEffect, useMemo, useReducer, useState } from 'react';
import type { ApprovalDto, SessionDto, StatementDto } from '../../../../shared/contract';
import { SqlCode } from '../../components/sql-code';
import { useClient, useEvent, useResync } from '../../contract-client/client-context';
import { formatBytes, formatDuration, formatMs, formatTime } from '../../format';
import { useNow } from '../../hooks/use-now';
import { initialSession, sessionReducer } from './live-session';
import { parsePreview, statementDecision, type StatementDecision } from './statement-view';

const BADGE: Record<StatementDecision, string> = {
  blocked: 'blocked',
  denied: 'blocked',
  approved: 'held',
  held: 'held',
  masked: 'masked',
  error: 'bad',
  allowed: '',
};

/** One session: its facts and its statements in order, live while the session is open. */
export function SessionPage({ id, onBack }: { id: string; onBack: () => void }) {
  const client = useClient();
  const [state, dispatch] = useReducer(sessionReducer, initialSession);
  const [approvals, setApprovals] = useState<Map<string, ApprovalDto>>(new Map());
  const [open, setOpen] = useState<Set<number>>(new Set());

  const load = useCallback(() => {
    dispatch({ type: 'load' });
    client.call('sessions.get', { id }).then(
      (r) => dispatch({ type: 'loaded', session: r.session, statements: r.statements }),
      (err: Error) => dispatch({ type: 'failed', error: err.message }),
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
          <h2 className="section-title">
            Statements ({state.statements.length.toLocaleString()})
            {Object.entries(counts)
              .filter(([d]) => d !== 'allowed')
              .map(([d, n]) => (
                <span key={d} className={`badge ${BADGE[d as StatementDecision]} summary-badge`}>
                  {n} {d}
                </span>
              ))}
          </h2>
          {state.statements.length === 0 ? (
            <p className="muted">No statements in this session{s.endedAt ? '' : ' yet'}.</p>
          ) : (
            <div className="table-wrap">
              <table className="grid statements" aria-label="Statements">
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
                <tbody>
                  {state.statements.map((st) => {
                    const approval = st.approvalId ? approvals.get(st.approvalId) : undefined;
                    const decision = statementDecision(st, approval);
                    const expanded = open.has(st.id);
                    return (
                      <Fragment key={st.id}>
                        <tr
                          data-statement={st.seq}
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
                      </Fragment>
                    );
                  })}
                </tbody>
              </table>
            </div>
          )}
          {state.statements.length > 0 && <p className="muted small">Click a statement (or press Enter on it) to see its masked result preview and the approval behind it.</p>}
        </>
      )}
    </section>
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
