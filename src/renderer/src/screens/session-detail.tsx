import { useCallback } from 'react';
import type { StatementDto } from '../../../shared/contract';
import { useCommand, useEvent } from '../contract-client/client-context';
import { formatTime } from '../format';

/** One session: its facts and the timeline of statements (live while the session is open). */
export function SessionDetail({ id, onBack }: { id: string; onBack: () => void }) {
  const { data, error, loading, reload } = useCommand('sessions.get', { id }, [id]);
  useEvent('statement.recorded', useCallback((s: StatementDto) => s.sessionId === id && reload(), [id, reload]));
  useEvent('session.ended', useCallback((s: { id: string }) => s.id === id && reload(), [id, reload]));
  return (
    <section className="screen">
      <header className="screen-header">
        <button className="link" onClick={onBack}>← Sessions</button>
        <h2>Session</h2>
      </header>
      {loading && !data && <p className="muted">Loading…</p>}
      {error && <p className="error" role="alert">{error}</p>}
      {data && (
        <>
          <dl className="facts">
            <dt>Agent</dt><dd>{data.session.agentName}</dd>
            <dt>Connection</dt><dd>{data.session.connectionName}</dd>
            <dt>Client</dt><dd className="mono">{data.session.clientAddress}{data.session.tls ? ' (TLS)' : ''}</dd>
            <dt>Started</dt><dd>{formatTime(data.session.startedAt)}</dd>
            <dt>Ended</dt><dd>{data.session.endedAt ? `${formatTime(data.session.endedAt)} (${data.session.endReason})` : 'live'}</dd>
          </dl>
          <table className="grid" aria-label="Statements">
            <thead>
              <tr><th className="num">#</th><th>Time</th><th className="num">ms</th><th>Result</th><th className="num">Rows</th><th>SQL</th></tr>
            </thead>
            <tbody>
              {data.statements.map((s) => (
                <tr key={s.id}>
                  <td className="num">{s.seq}</td>
                  <td>{formatTime(s.startedAt)}</td>
                  <td className="num">{s.durationMs.toFixed(2)}</td>
                  <td>{s.errorCode ? <span className="badge bad">error {s.errorCode}</span> : s.commandTag}</td>
                  <td className="num">{s.rows ?? ''}</td>
                  <td className="mono sql">{s.sql}</td>
                </tr>
              ))}
            </tbody>
          </table>
          {data.statements.length === 0 && <p className="muted">No statements in this session.</p>}
        </>
      )}
    </section>
  );
}
