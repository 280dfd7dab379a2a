import { useCallback, useEffect, useMemo, useState } from 'react';
import type { AuditEventDto, SessionDto, StatementDto } from '../../../../shared/contract';
import { useClient, useEvent, useResync } from '../../contract-client/client-context';
import { formatCountdown, formatTime } from '../../format';
import { useApprovals } from '../../hooks/use-live-approvals';
import { useNow } from '../../hooks/use-now';
import type { Route } from '../../routes';
import { mergeSession } from '../sessions/session-merge';
import { activityByHour } from './activity';
import { ActivityChart } from './activity-chart';

const HOURS = 12;
const RECENT = 8;

/**
 * Overview: what is happening now — live sessions, approvals waiting with their time left, recent blocks
 * and masks, and activity per hour by agent. Live from contract events.
 */
export function OverviewScreen({ navigate }: { navigate: (r: Route) => void }) {
  const client = useClient();
  const { state: approvals } = useApprovals();
  const [sessions, setSessions] = useState<SessionDto[] | null>(null);
  const [blocks, setBlocks] = useState<AuditEventDto[]>([]);
  const [masks, setMasks] = useState<StatementDto[]>([]);
  const [error, setError] = useState<string | null>(null);
  const load = useCallback(() => {
    setError(null);
    const since = Date.now() - HOURS * 3_600_000;
    Promise.all([client.call('sessions.list', { limit: 1000 }), client.call('audit.list', { kind: 'statement.blocked', limit: RECENT })]).then(
      ([page, audit]) => {
        setSessions(page.items.filter((s) => !s.endedAt || Date.parse(s.startedAt) >= since));
        setBlocks(audit);
      },
      (err: Error) => setError(err.message),
    );
    // Recent masks: the statements with masked values of the latest sessions that had any.
    client
      .call('sessions.list', { limit: 3, decision: 'masked' })
      .then((page) => Promise.all(page.items.map((s) => client.call('sessions.get', { id: s.id }))))
      .then(
        (details) =>
          setMasks(
            details
              .flatMap((d) => d.statements.filter((st) => (st.maskedValues ?? 0) > 0))
              .sort((a, b) => Date.parse(b.startedAt) - Date.parse(a.startedAt))
              .slice(0, RECENT),
          ),
        () => {},
      );
  }, [client]);
  useEffect(load, [load]);
  useResync(load);
  const onSession = (s: SessionDto) =>
    setSessions((cur) => {
      if (!cur) return cur;
      const i = cur.findIndex((x) => x.id === s.id);
      if (i < 0) return [s, ...cur];
      const next = cur.slice();
      next[i] = mergeSession(cur[i], s);
      return next;
    });
  useEvent('session.started', onSession);
  useEvent('session.updated', onSession);
  useEvent('session.ended', onSession);
  useEvent('audit.appended', (e) => e.kind === 'statement.blocked' && setBlocks((cur) => [e, ...cur.filter((x) => x.id !== e.id)].slice(0, RECENT)));
  useEvent('statement.recorded', (st) => (st.maskedValues ?? 0) > 0 && setMasks((cur) => [st, ...cur.filter((x) => x.id !== st.id)].slice(0, RECENT)));

  const now = useNow(true, 1000);
  const live = sessions?.filter((s) => !s.endedAt) ?? [];
  const hourKey = Math.floor(now / 3_600_000);
  // Re-bucket when sessions change or the hour turns, not every second.
  const activity = useMemo(() => activityByHour(sessions ?? [], now, HOURS), [sessions, hourKey]);
  const agentOf = useMemo(() => new Map((sessions ?? []).map((s) => [s.id, s])), [sessions]);

  return (
    <section className="screen" aria-labelledby="overview-title">
      <header className="screen-header">
        <h1 id="overview-title">Overview</h1>
      </header>
      {error && (
        <p className="error" role="alert">
          Could not load the overview: {error}{' '}
          <button className="link" onClick={load}>
            Try again
          </button>
        </p>
      )}
      <div className="tiles">
        <a className="tile" href="#/sessions">
          <span className="tile-number" data-tile="live-sessions">
            {sessions ? live.length : '…'}
          </span>
          <span className="muted">live session{live.length === 1 ? '' : 's'}</span>
        </a>
        <a className={approvals.pending.length ? 'tile attention' : 'tile'} href="#/approvals">
          <span className="tile-number" data-tile="pending-approvals">
            {approvals.status === 'ready' ? approvals.pending.length : '…'}
          </span>
          <span className="muted">pending approval{approvals.pending.length === 1 ? '' : 's'}</span>
        </a>
        <div className="tile">
          <span className="tile-number">{activity.rows.reduce((n, r) => n + r.statements, 0).toLocaleString()}</span>
          <span className="muted">statements in {HOURS} h</span>
        </div>
        <div className="tile">
          <span className="tile-number">{blocks.length ? blocks.length : 0}</span>
          <span className="muted">recent blocks</span>
        </div>
      </div>

      <div className="panels">
        <section className="card panel" aria-labelledby="ov-approvals">
          <h2 id="ov-approvals">Waiting for approval</h2>
          {approvals.pending.length === 0 ? (
            <p className="muted">Nothing is waiting. Held statements appear here with the time left before they are denied.</p>
          ) : (
            <ul className="plain-list">
              {approvals.pending.slice(0, RECENT).map((a) => (
                <li key={a.id}>
                  <button className="list-button" onClick={() => navigate({ screen: 'approvals', id: a.id })}>
                    <span className="countdown">{formatCountdown(Date.parse(a.expiresAt) - now)}</span>
                    <span>
                      {a.agentName} <span className="muted">on</span> {a.connectionName}
                    </span>
                    <span className="mono ellipsis">{a.statement}</span>
                  </button>
                </li>
              ))}
            </ul>
          )}
        </section>

        <section className="card panel" aria-labelledby="ov-live">
          <h2 id="ov-live">Live sessions</h2>
          {live.length === 0 ? (
            <p className="muted">No agent is connected right now.</p>
          ) : (
            <ul className="plain-list">
              {live.slice(0, RECENT).map((s) => (
                <li key={s.id}>
                  <button className="list-button" onClick={() => navigate({ screen: 'sessions', id: s.id })}>
                    <span className="badge live">live</span>
                    <span>
                      {s.agentName} <span className="muted">on</span> {s.connectionName}
                    </span>
                    <span className="muted">{s.statementCount} statements</span>
                  </button>
                </li>
              ))}
            </ul>
          )}
        </section>

        <section className="card panel" aria-labelledby="ov-blocks">
          <h2 id="ov-blocks">Recent blocks</h2>
          {blocks.length === 0 ? (
            <p className="muted">No statement has been blocked by policy.</p>
          ) : (
            <ul className="plain-list">
              {blocks.map((b) => (
                <li key={b.id}>
                  <button className="list-button" disabled={!b.sessionId} onClick={() => b.sessionId && navigate({ screen: 'sessions', id: b.sessionId })}>
                    <span className="badge blocked">blocked</span>
                    <span>
                      {b.agentName} <span className="muted">· {formatTime(b.at)} · rule</span> <code>{String(b.detail.rule ?? '')}</code>
                    </span>
                    <span className="mono ellipsis">{String(b.detail.statement ?? '')}</span>
                  </button>
                </li>
              ))}
            </ul>
          )}
        </section>

        <section className="card panel" aria-labelledby="ov-masks">
          <h2 id="ov-masks">Recent masks</h2>
          {masks.length === 0 ? (
            <p className="muted">No masked results yet. Results with values replaced by masking rules show here as they happen.</p>
          ) : (
            <ul className="plain-list">
              {masks.map((m) => (
                <li key={m.id}>
                  <button className="list-button" onClick={() => navigate({ screen: 'sessions', id: m.sessionId })}>
                    <span className="badge masked">{m.maskedValues} masked</span>
                    <span>{agentOf.get(m.sessionId)?.agentName ?? formatTime(m.startedAt)}</span>
                    <span className="mono ellipsis">{m.sql}</span>
                  </button>
                </li>
              ))}
            </ul>
          )}
        </section>
      </div>

      <section className="card panel activity" aria-labelledby="ov-activity">
        <h2 id="ov-activity">Activity, last {HOURS} hours</h2>
        <p className="muted small">Sessions and statements per hour by agent (a session counts in the hour it started). The table under the chart has the same figures.</p>
        {activity.agents.length === 0 ? (
          <p className="muted">No sessions in the last {HOURS} hours.</p>
        ) : (
          <>
          <ActivityChart agents={activity.agents} rows={activity.rows} />
          <div className="table-wrap">
            <table className="grid" aria-label="Activity per hour">
              <thead>
                <tr>
                  <th>Hour</th>
                  {activity.agents.map((a) => (
                    <th key={a} className="num">
                      {a}
                    </th>
                  ))}
                  <th className="num">All agents</th>
                </tr>
              </thead>
              <tbody>
                {activity.rows.map((r) => (
                  <tr key={r.hourStart}>
                    <td>{new Date(r.hourStart).toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' })}</td>
                    {activity.agents.map((a) => (
                      <td key={a} className="num">
                        {r.byAgent[a] ? `${r.byAgent[a].sessions} / ${r.byAgent[a].statements.toLocaleString()}` : <span className="muted">—</span>}
                      </td>
                    ))}
                    <td className="num">{r.sessions ? `${r.sessions} / ${r.statements.toLocaleString()}` : <span className="muted">—</span>}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          </>
        )}
      </section>
    </section>
  );
}
