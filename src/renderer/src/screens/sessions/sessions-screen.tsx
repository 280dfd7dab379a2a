import { useVirtualizer } from '@tanstack/react-virtual';
import { useCallback, useEffect, useReducer, useRef, useState, type KeyboardEvent } from 'react';
import type { AgentDto, ConnectionDto, SessionDto } from '../../../../shared/contract';
import { useClient, useEvent, useResync } from '../../contract-client/client-context';
import { formatBytes, formatDuration, formatTime } from '../../format';
import { useNow } from '../../hooks/use-now';
import { initialSessions, sessionsReducer } from './live-sessions';
import { EvidenceExport } from './evidence-export';
import { NO_FILTER, filterInput, sessionMatches, type SessionFilter } from './session-filter';

const PAGE = 100;

/** The Sessions screen: every recorded session, newest first, live from contract events (no polling). */
export function SessionsScreen({ onOpen }: { onOpen: (id: string) => void }) {
  const client = useClient();
  const [state, dispatch] = useReducer(sessionsReducer, initialSessions);
  const [loadingOlder, setLoadingOlder] = useState(false);
  const [filter, setFilter] = useState<SessionFilter>(NO_FILTER);
  // The text filter is applied after a pause in typing, not on every key.
  const [applied, setApplied] = useState<SessionFilter>(NO_FILTER);
  useEffect(() => {
    const t = setTimeout(() => setApplied(filter), filter.text === applied.text ? 0 : 300);
    return () => clearTimeout(t);
  }, [filter, applied.text]);
  const [unseen, setUnseen] = useState(0);
  const [choices, setChoices] = useState<{ agents: AgentDto[]; connections: ConnectionDto[] }>({ agents: [], connections: [] });
  useEffect(() => {
    Promise.all([client.call('agents.list', {}), client.call('connections.list', {})]).then(
      ([agents, connections]) => setChoices({ agents, connections }),
      () => {},
    );
  }, [client]);

  const load = useCallback(() => {
    dispatch({ type: 'load' });
    setUnseen(0);
    client.call('sessions.list', { limit: PAGE, ...filterInput(applied) }).then(
      (page) => dispatch({ type: 'loaded', items: page.items, total: page.total }),
      (err: Error) => dispatch({ type: 'failed', error: err.message }),
    );
  }, [client, applied]);
  useEffect(load, [load]);
  useResync(load);
  const onSession = (session: SessionDto) => {
    const m = sessionMatches(applied, session);
    const listed = state.items.some((s) => s.id === session.id);
    if (m === 'yes' || listed) dispatch({ type: 'event', session });
    else if (m === 'unknown') setUnseen((n) => n + 1);
  };
  useEvent('session.started', onSession);
  useEvent('session.updated', onSession);
  useEvent('session.ended', onSession);

  const loadOlder = () => {
    const last = state.items[state.items.length - 1];
    if (!last) return;
    setLoadingOlder(true);
    client
      .call('sessions.list', { limit: PAGE, before: last.id, ...filterInput(applied) })
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
          {state.total.toLocaleString()} {filterInput(applied) && Object.keys(filterInput(applied)).length ? 'matching' : 'recorded'} · {live} live
        </span>
        <EvidenceExport agent={applied.agent} connection={applied.connection} />
      </header>
      <form className="filters" role="search" aria-label="Filter sessions" onSubmit={(e) => e.preventDefault()}>
        <select value={filter.agent} onChange={(e) => setFilter({ ...filter, agent: e.target.value })} aria-label="Agent">
          <option value="">All agents</option>
          {choices.agents.map((a) => (
            <option key={a.id}>{a.name}</option>
          ))}
        </select>
        <select value={filter.connection} onChange={(e) => setFilter({ ...filter, connection: e.target.value })} aria-label="Connection">
          <option value="">All connections</option>
          {choices.connections.map((c) => (
            <option key={c.id}>{c.name}</option>
          ))}
        </select>
        <select value={filter.decision} onChange={(e) => setFilter({ ...filter, decision: e.target.value as SessionFilter['decision'] })} aria-label="Decision">
          <option value="">Any decision</option>
          <option value="blocked">With blocked statements</option>
          <option value="held">With held statements</option>
          <option value="masked">With masked results</option>
          <option value="errored">With errors</option>
        </select>
        <input type="search" value={filter.text} onChange={(e) => setFilter({ ...filter, text: e.target.value })} placeholder="SQL or client address contains…" aria-label="Text" />
        <label className="muted small">
          From <input type="datetime-local" value={filter.from ?? ''} onChange={(e) => setFilter({ ...filter, from: e.target.value })} aria-label="Started from" />
        </label>
        <label className="muted small">
          to <input type="datetime-local" value={filter.to ?? ''} onChange={(e) => setFilter({ ...filter, to: e.target.value })} aria-label="Started before" />
        </label>
        {Object.keys(filterInput(filter)).length > 0 && (
          <button type="button" className="link" onClick={() => setFilter(NO_FILTER)}>
            Clear filters
          </button>
        )}
        {unseen > 0 && (
          <button type="button" className="secondary slim" onClick={load}>
            {unseen} new session{unseen === 1 ? '' : 's'} — refresh to filter
          </button>
        )}
      </form>
      {state.status === 'error' && (
        <p className="error" role="alert">
          Could not load sessions: {state.error} <button className="link" onClick={load}>Try again</button>
        </p>
      )}
      {state.status === 'loading' && <p className="muted">Loading sessions…</p>}
      {state.status === 'ready' && state.items.length === 0 && Object.keys(filterInput(applied)).length > 0 && (
        <div className="empty">
          <p>No session matches these filters.</p>
          <p className="muted">Widen them or clear them to see every recorded session.</p>
        </div>
      )}
      {state.status === 'ready' && state.items.length === 0 && Object.keys(filterInput(applied)).length === 0 && (
        <div className="empty">
          <p>No sessions yet.</p>
          <p className="muted">
            Register a connection, create an agent and grant it access (<code>gatehouse connection add</code>, <code>agent add</code>,{' '}
            <code>grant add</code>), then connect with psql through the gateway. Sessions appear here as they start.
          </p>
        </div>
      )}
      {state.items.length > 0 && (
        <SessionRows items={state.items} now={now} onOpen={onOpen} onNearEnd={() => state.items.length < state.total && !loadingOlder && state.status === 'ready' && loadOlder()} />
      )}
      {state.items.length > 0 && (
        <p className="muted small" aria-live="polite">
          {state.items.length.toLocaleString()} of {state.total.toLocaleString()} loaded{state.items.length < state.total ? ' — scroll for more' : ''}
          {loadingOlder ? ' (loading…)' : ''}. ↑/↓ move between rows, Enter opens.
        </p>
      )}
    </section>
  );
}

/**
 * The sessions table, virtualized: only the rows in view (plus a few) are in the DOM, so 100,000 loaded
 * sessions scroll like 100. Nearing the end of what is loaded asks for the next page (keyset, `before`).
 */
function SessionRows({ items, now, onOpen, onNearEnd }: { items: SessionDto[]; now: number; onOpen: (id: string) => void; onNearEnd: () => void }) {
  const scroller = useRef<HTMLDivElement>(null);
  const virtual = useVirtualizer({ count: items.length, getScrollElement: () => scroller.current, estimateSize: () => 35, overscan: 10, getItemKey: (i) => items[i].id });
  const rows = virtual.getVirtualItems();
  const lastIndex = rows.length ? rows[rows.length - 1].index : 0;
  useEffect(() => {
    if (lastIndex >= items.length - 30) onNearEnd();
  }, [lastIndex, items.length, onNearEnd]);
  const top = rows.length ? rows[0].start : 0;
  const bottom = rows.length ? virtual.getTotalSize() - rows[rows.length - 1].end : 0;
  const move = (e: KeyboardEvent<HTMLTableRowElement>, index: number) => {
    const next = e.key === 'ArrowDown' ? index + 1 : e.key === 'ArrowUp' ? index - 1 : -1;
    if (next < 0 || next >= items.length) return;
    e.preventDefault();
    virtual.scrollToIndex(next, { align: 'auto' });
    requestAnimationFrame(() => scroller.current?.querySelector<HTMLElement>(`tr[data-index="${next}"]`)?.focus());
  };
  return (
    <div className="table-wrap virtual-scroll" ref={scroller}>
      <table className="grid" aria-label="Sessions" aria-rowcount={items.length + 1}>
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
          {top > 0 && <tr className="spacer" aria-hidden="true" style={{ height: top }} />}
          {rows.map((row) => {
            const s = items[row.index];
            return (
              <tr
                key={row.key}
                ref={virtual.measureElement}
                data-index={row.index}
                data-session={s.id}
                aria-rowindex={row.index + 2}
                tabIndex={0}
                aria-label={`Session of ${s.agentName} on ${s.connectionName}, started ${formatTime(s.startedAt)}`}
                onClick={() => onOpen(s.id)}
                onKeyDown={(e) => {
                  if (e.key === 'Enter' || e.key === ' ') {
                    e.preventDefault();
                    onOpen(s.id);
                  } else move(e, row.index);
                }}
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
            );
          })}
          {bottom > 0 && <tr className="spacer" aria-hidden="true" style={{ height: bottom }} />}
        </tbody>
      </table>
    </div>
  );
}
