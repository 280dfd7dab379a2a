import { useCallback, useEffect, useReducer } from 'react';
import type { SessionDto, StatementDto } from '../../../../shared/contract';
import { useClient, useEvent, useResync } from '../../contract-client/client-context';
import { formatBytes, formatDuration, formatMs, formatTime } from '../../format';
import { useNow } from '../../hooks/use-now';
import { initialSession, sessionReducer } from './live-session';

/** One session: its facts and its statements in order, live while the session is open. */
export function SessionPage({ id, onBack }: { id: string; onBack: () => void }) {
  const client = useClient();
  const [state, dispatch] = useReducer(sessionReducer, initialSession);

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

  const s = state.session;
  const now = useNow(Boolean(s && !s.endedAt));
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
          Could not load this session: {state.error}
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
          <h2 className="section-title">Statements ({state.statements.length.toLocaleString()})</h2>
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
                    <th>Result</th>
                    <th className="num">Rows</th>
                    <th>SQL</th>
                  </tr>
                </thead>
                <tbody>
                  {state.statements.map((st) => (
                    <tr key={st.id}>
                      <td className="num">{st.seq}</td>
                      <td>{formatTime(st.startedAt)}</td>
                      <td className="num">{formatMs(st.durationMs)}</td>
                      <td>{st.errorCode ? <span className="badge bad">error {st.errorCode}</span> : (st.commandTag ?? '')}</td>
                      <td className="num">{st.rows ?? ''}</td>
                      <td className="mono sql">{st.sql}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
        </>
      )}
    </section>
  );
}
