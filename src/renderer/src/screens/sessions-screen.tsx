import { useCallback, useEffect, useState } from 'react';
import type { SessionDto } from '../../../shared/contract';
import { useClient, useEvent } from '../contract-client/client-context';
import { formatBytes, formatDuration, formatTime } from '../format';
import { SessionDetail } from './session-detail';

const PAGE = 100;

/** Live list of sessions, newest first; updates from contract events, no polling. */
export function SessionsScreen() {
  const client = useClient();
  const [sessions, setSessions] = useState<SessionDto[]>([]);
  const [total, setTotal] = useState(0);
  const [error, setError] = useState<string | null>(null);
  const [loading, setLoading] = useState(true);
  const [selected, setSelected] = useState<string | null>(null);

  const load = useCallback(() => {
    client.call('sessions.list', { limit: PAGE }).then(
      (page) => {
        setSessions(page.items);
        setTotal(page.total);
        setError(null);
        setLoading(false);
      },
      (err: Error) => {
        setError(err.message);
        setLoading(false);
      },
    );
  }, [client]);
  useEffect(() => {
    load();
    // When the live event stream (re)connects, catch up on anything that happened before it.
    return client.onResync?.(load);
  }, [client, load]);

  const upsert = useCallback((s: SessionDto) => {
    setSessions((list) => {
      const i = list.findIndex((x) => x.id === s.id);
      if (i < 0) return [s, ...list];
      const next = list.slice();
      next[i] = s;
      return next;
    });
  }, []);
  useEvent('session.started', useCallback((s: SessionDto) => (upsert(s), setTotal((t) => t + 1)), [upsert]));
  useEvent('session.updated', upsert);
  useEvent('session.ended', upsert);

  const loadMore = () => {
    const last = sessions[sessions.length - 1];
    if (!last) return;
    void client.call('sessions.list', { limit: PAGE, before: last.id }).then((page) => setSessions((l) => [...l, ...page.items]));
  };

  if (selected) return <SessionDetail id={selected} onBack={() => setSelected(null)} />;
  return (
    <section className="screen">
      <header className="screen-header">
        <h2>Sessions</h2>
        <span className="muted">{total} recorded · {sessions.filter((s) => !s.endedAt).length} live</span>
      </header>
      {error && <p className="error" role="alert">Could not load sessions: {error}</p>}
      {loading && <p className="muted">Loading…</p>}
      {!loading && !error && sessions.length === 0 && (
        <div className="empty">
          <p>No sessions yet.</p>
          <p className="muted">Register a connection, create an agent, grant it access, then connect with psql through the gateway. Sessions appear here as they start.</p>
        </div>
      )}
      {sessions.length > 0 && (
        <table className="grid" aria-label="Sessions">
          <thead>
            <tr>
              <th>Agent</th>
              <th>Connection</th>
              <th>Client</th>
              <th>TLS</th>
              <th>Started</th>
              <th>Duration</th>
              <th className="num">Statements</th>
              <th className="num">In / out</th>
              <th>State</th>
            </tr>
          </thead>
          <tbody>
            {sessions.map((s) => (
              <tr key={s.id} tabIndex={0} onClick={() => setSelected(s.id)} onKeyDown={(e) => e.key === 'Enter' && setSelected(s.id)} data-session={s.id}>
                <td>{s.agentName}</td>
                <td>{s.connectionName}</td>
                <td className="mono">{s.clientAddress}</td>
                <td>{s.tls ? 'yes' : 'no'}</td>
                <td>{formatTime(s.startedAt)}</td>
                <td>{s.endedAt ? formatDuration(Date.parse(s.endedAt) - Date.parse(s.startedAt)) : '—'}</td>
                <td className="num">{s.statementCount}</td>
                <td className="num">{formatBytes(s.bytesIn)} / {formatBytes(s.bytesOut)}</td>
                <td>{s.endedAt ? <span className="badge">{s.endReason}</span> : <span className="badge live">live</span>}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {sessions.length < total && sessions.length > 0 && (
        <button className="secondary" onClick={loadMore}>Load older sessions</button>
      )}
    </section>
  );
}
