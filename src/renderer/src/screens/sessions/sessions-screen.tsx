import { useCallback, useEffect, useReducer, useState } from 'react';
import type { SessionDto } from '../../../../shared/contract';
import { useClient, useEvent, useResync } from '../../contract-client/client-context';
import { formatBytes, formatDuration, formatTime } from '../../format';
import { useNow } from '../../hooks/use-now';
import { initialSessions, sessionsReducer } from './live-sessions';

const PAGE = 100;

/** The Sessions screen: every recorded session, newest first, live from contract events (no polling). */
export function SessionsScreen({ onOpen }: { onOpen: (id: string) => void }) {
  const client = useClient();
  const [state, dispatch] = useReducer(sessionsReducer, initialSessions);
  const [loadingOlder, setLoadingOlder] = useState(false);

  const load = useCallback(() => {
    dispatch({ type: 'load' });
    client.call('sessions.list', { limit: PAGE }).then(
      (page) => dispatch({ type: 'loaded', items: page.items, total: page.total }),
      (err: Error) => dispatch({ type: 'failed', error: err.message }),
    );
  }, [client]);
  useEffect(load, [load]);
  useResync(load);
  const onSession = (session: SessionDto) => dispatch({ type: 'event', session });
  useEvent('session.started', onSession);
  useEvent('session.updated', onSession);
  useEvent('session.ended', onSession);

  const loadOlder = () => {
    const last = state.items[state.items.length - 1];
    if (!last) return;
    setLoadingOlder(true);
    client
      .call('sessions.list', { limit: PAGE, before: last.id })
      .then((page) => dispatch({ type: 'older', items: page.items }), (err: Error) => dispatch({ type: 'failed', error: err.message }))
      .finally(() => setLoadingOlder(false));
  };

  const live = state.items.filter((s) => !s.endedAt).length;
  const now = useNow(live > 0);
  return (
    <section className="screen" aria-labelledby="sessions-title">
      <header className="screen-header">
        <h1 id="sessions-title">Sessions</h1>
        <span className="muted">
          {state.total} recorded · {live} live
        </span>
      </header>
      {state.status === 'error' && (
        <p className="error" role="alert">
          Could not load sessions: {state.error} <button className="link" onClick={load}>Try again</button>
        </p>
      )}
      {state.status === 'loading' && <p className="muted">Loading sessions…</p>}
      {state.status === 'ready' && state.items.length === 0 && (
        <div className="empty">
          <p>No sessions yet.</p>
          <p className="muted">
            Register a connection, create an agent and grant it access (<code>gatehouse connection add</code>, <code>agent add</code>,{' '}
            <code>grant add</code>), then connect with psql through the gateway. Sessions appear here as they start.
          </p>
        </div>
      )}
      {state.items.length > 0 && (
        <div className="table-wrap">
          <table className="grid" aria-label="Sessions">
            <thead>
              <tr>
                <th>Agent</th>
                <th>Connection</th>
                <th>Client</th>
                <th>TLS</th>
                <th>Started</th>
                <th className="num">Duration</th>
                <th className="num">Statements</th>
                <th className="num">Bytes in / out</th>
                <th>End reason</th>
              </tr>
            </thead>
            <tbody>
              {state.items.map((s) => (
                <tr
                  key={s.id}
                  data-session={s.id}
                  tabIndex={0}
                  aria-label={`Session of ${s.agentName} on ${s.connectionName}, started ${formatTime(s.startedAt)}`}
                  onClick={() => onOpen(s.id)}
                  onKeyDown={(e) => (e.key === 'Enter' || e.key === ' ') && (e.preventDefault(), onOpen(s.id))}
                >
                  <td>{s.agentName}</td>
                  <td>{s.connectionName}</td>
                  <td className="mono">{s.clientAddress}</td>
                  <td>{s.tls ? 'TLS' : <span className="muted">plain</span>}</td>
                  <td>{formatTime(s.startedAt)}</td>
                  <td className="num">{formatDuration((s.endedAt ? Date.parse(s.endedAt) : now) - Date.parse(s.startedAt))}</td>
                  <td className="num">{s.statementCount.toLocaleString()}</td>
                  <td className="num">
                    {formatBytes(s.bytesIn)} / {formatBytes(s.bytesOut)}
                  </td>
                  <td>{s.endedAt ? <span className="badge">{s.endReason ?? 'ended'}</span> : <span className="badge live">live</span>}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {state.items.length > 0 && state.items.length < state.total && (
        <button className="secondary" onClick={loadOlder} disabled={loadingOlder}>
          {loadingOlder ? 'Loading…' : 'Load older sessions'}
        </button>
      )}
    </section>
  );
}
