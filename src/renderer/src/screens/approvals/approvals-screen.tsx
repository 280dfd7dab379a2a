import { useCallback, useEffect, useRef, useState, type FormEvent } from 'react';
import type { ApprovalDto } from '../../../../shared/contract';
import { SqlCode } from '../../components/sql-code';
import { useClient, useEvent } from '../../contract-client/client-context';
import { inDesktopApp } from '../../contract-client/desktop-shell';
import { formatCountdown, formatTime } from '../../format';
import { useApprovals } from '../../hooks/use-live-approvals';
import { useNow } from '../../hooks/use-now';
import { notificationPermission, requestNotificationPermission } from '../../web-notifications';
import { mergeHistory, nextSelection } from './live-approvals';

type Tab = 'pending' | 'history';

const isTyping = (t: EventTarget | null) => t instanceof HTMLElement && (t.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(t.tagName));

/**
 * The approvals inbox: statements held by policy, live from approval events. j/k move, Enter opens, a
 * approves once, d denies (asks for a reason). A history tab lists every decided request.
 */
export function ApprovalsScreen({ selectedId, onSelect }: { selectedId?: string; onSelect: (id: string) => void }) {
  const { state, reload } = useApprovals();
  const [tab, setTab] = useState<Tab>('pending');
  const [selected, setSelected] = useState<string | null>(selectedId ?? null);
  const previous = useRef<ApprovalDto[]>([]);
  const pending = state.pending;

  useEffect(() => {
    if (selectedId) setSelected(selectedId);
  }, [selectedId]);
  // Keep a selection: when the selected request is decided (here or elsewhere) move to the next one.
  useEffect(() => {
    setSelected((cur) => nextSelection(previous.current, pending, cur));
    previous.current = pending;
  }, [pending]);

  const current = pending.find((a) => a.id === selected) ?? null;
  const detailRef = useRef<HTMLDivElement>(null);
  const [denying, setDenying] = useState(false);
  useEffect(() => setDenying(false), [selected]);

  const move = useCallback(
    (delta: number) => {
      if (pending.length === 0) return;
      const i = pending.findIndex((a) => a.id === selected);
      const next = pending[Math.min(pending.length - 1, Math.max(0, (i < 0 ? 0 : i) + delta))];
      setSelected(next.id);
      document.querySelector<HTMLElement>(`[data-approval="${next.id}"]`)?.focus();
    },
    [pending, selected],
  );
  const decideRef = useRef<{ approve: () => void } | null>(null);

  useEffect(() => {
    if (tab !== 'pending') return;
    const onKey = (e: KeyboardEvent) => {
      if (isTyping(e.target) || e.ctrlKey || e.metaKey || e.altKey) return;
      if (e.key === 'j' || e.key === 'ArrowDown') move(1);
      else if (e.key === 'k' || e.key === 'ArrowUp') move(-1);
      else if (e.key === 'a' && current) decideRef.current?.approve();
      else if (e.key === 'd' && current) setDenying(true);
      else if (e.key === 'Enter' && current && (e.target as HTMLElement | null)?.dataset?.approval) {
        onSelect(current.id);
        detailRef.current?.focus();
      } else return;
      e.preventDefault();
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [tab, move, current, onSelect]);

  const [permission, setPermission] = useState(notificationPermission);
  return (
    <section className="screen" aria-labelledby="approvals-title">
      <header className="screen-header">
        <h1 id="approvals-title">Approvals</h1>
        <div className="tabs" role="tablist" aria-label="Approvals">
          <button role="tab" aria-selected={tab === 'pending'} className={tab === 'pending' ? 'tab active' : 'tab'} onClick={() => setTab('pending')}>
            Pending <span className="count">{pending.length}</span>
          </button>
          <button role="tab" aria-selected={tab === 'history'} className={tab === 'history' ? 'tab active' : 'tab'} onClick={() => setTab('history')}>
            History
          </button>
        </div>
        {!inDesktopApp() && permission === 'default' && (
          <button className="secondary slim" onClick={() => void requestNotificationPermission().then(setPermission)}>
            Notify me of new requests
          </button>
        )}
        <span className="muted shortcuts" aria-hidden="true">
          <kbd>j</kbd>/<kbd>k</kbd> move · <kbd>a</kbd> approve · <kbd>d</kbd> deny · <kbd>Enter</kbd> open
        </span>
      </header>
      {tab === 'history' ? (
        <History />
      ) : (
        <>
          {state.status === 'error' && (
            <p className="error" role="alert">
              Could not load approval requests: {state.error}{' '}
              <button className="link" onClick={reload}>
                Try again
              </button>
            </p>
          )}
          {state.status === 'loading' && <p className="muted">Loading approval requests…</p>}
          {state.status === 'ready' && pending.length === 0 && (
            <div className="empty">
              <p>Nothing is waiting for you.</p>
              <p className="muted">
                Statements that match an <code>action: approve</code> rule of the policy are held here until you approve or deny them. Add such a rule on
                the <a href="#/policy">Policy</a> screen; requests appear here the moment an agent sends one.
              </p>
            </div>
          )}
          {pending.length > 0 && (
            <div className="split">
              <ul className="inbox" aria-label="Pending approval requests">
                {pending.map((a) => (
                  <InboxRow key={a.id} a={a} selected={a.id === selected} onSelect={() => setSelected(a.id)} />
                ))}
              </ul>
              <div className="detail" ref={detailRef} tabIndex={-1} aria-label="Selected request">
                {current && <ApprovalDetail key={current.id} a={current} denying={denying} setDenying={setDenying} decideRef={decideRef} />}
              </div>
            </div>
          )}
        </>
      )}
    </section>
  );
}

function Countdown({ expiresAt }: { expiresAt: string }) {
  const now = useNow(true);
  const left = Date.parse(expiresAt) - now;
  return (
    <span className={left < 60_000 ? 'countdown urgent' : 'countdown'} title={`Denied automatically at ${formatTime(expiresAt)}`}>
      {formatCountdown(left)}
    </span>
  );
}

function InboxRow({ a, selected, onSelect }: { a: ApprovalDto; selected: boolean; onSelect: () => void }) {
  return (
    <li>
      <button
        className={selected ? 'inbox-row selected' : 'inbox-row'}
        data-approval={a.id}
        aria-current={selected ? 'true' : undefined}
        onClick={onSelect}
        onFocus={onSelect}
      >
        <span className="inbox-who">
          {a.agentName} <span className="muted">on</span> {a.connectionName}
        </span>
        <Countdown expiresAt={a.expiresAt} />
        <span className="inbox-sql mono">{a.statement}</span>
        <span className="muted small">rule {a.rule}</span>
      </button>
    </li>
  );
}

function ApprovalDetail({
  a,
  denying,
  setDenying,
  decideRef,
}: {
  a: ApprovalDto;
  denying: boolean;
  setDenying: (v: boolean) => void;
  decideRef: React.MutableRefObject<{ approve: () => void } | null>;
}) {
  const client = useClient();
  const [minutes, setMinutes] = useState(15);
  const [reason, setReason] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const decide = (decision: 'approve' | 'deny', extra: { reason?: string; sessionMinutes?: number } = {}) => {
    setBusy(true);
    setError(null);
    client.call('approvals.decide', { id: a.id, decision, ...extra }).then(
      () => setBusy(false),
      (err: Error) => {
        setBusy(false);
        setError(err.message);
      },
    );
  };
  decideRef.current = { approve: () => !busy && decide('approve') };
  const submitDeny = (e: FormEvent) => {
    e.preventDefault();
    decide('deny', reason.trim() ? { reason: reason.trim() } : {});
  };
  return (
    <article className="approval" aria-labelledby={`approval-${a.id}`}>
      <header className="approval-head">
        <h2 id={`approval-${a.id}`}>
          {a.agentName} <span className="muted">on</span> {a.connectionName}
        </h2>
        <span className="muted">time left</span> <Countdown expiresAt={a.expiresAt} />
      </header>
      <SqlCode sql={a.statement} />
      <dl className="facts">
        <dt>Rule</dt>
        <dd>
          <code>{a.rule}</code> <span className="muted">{a.message}</span>
        </dd>
        <dt>Requested</dt>
        <dd>{formatTime(a.requestedAt)}</dd>
        <dt>Session</dt>
        <dd>
          <a href={`#/sessions/${encodeURIComponent(a.sessionId)}`}>{a.protocol} session {a.sessionId.slice(0, 8)}</a>
        </dd>
      </dl>
      <div className="actions">
        <button className="primary" disabled={busy} onClick={() => decide('approve')}>
          Approve once <kbd>a</kbd>
        </button>
        <span className="inline-field">
          <button className="secondary inline" disabled={busy} onClick={() => decide('approve', { sessionMinutes: minutes })}>
            Approve for
          </button>
          <input
            type="number"
            min={1}
            max={1440}
            value={minutes}
            aria-label="Minutes to allow the same rule in this session"
            onChange={(e) => setMinutes(Math.max(1, Math.min(1440, Number(e.target.value) || 1)))}
          />
          <span className="muted">min in this session</span>
        </span>
        {!denying && (
          <button className="danger" disabled={busy} onClick={() => setDenying(true)}>
            Deny… <kbd>d</kbd>
          </button>
        )}
      </div>
      {denying && (
        <form className="deny-form" onSubmit={submitDeny}>
          <label htmlFor="deny-reason">Reason (sent to the client in the error)</label>
          <input
            id="deny-reason"
            autoFocus
            value={reason}
            maxLength={2000}
            onChange={(e) => setReason(e.target.value)}
            onKeyDown={(e) => e.key === 'Escape' && setDenying(false)}
            placeholder="e.g. not during business hours"
          />
          <button type="submit" className="danger" disabled={busy}>
            Deny
          </button>
          <button type="button" className="link" onClick={() => setDenying(false)}>
            Cancel
          </button>
        </form>
      )}
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
    </article>
  );
}

const STATUS_BADGE: Record<string, string> = { approved: 'good', denied: 'bad', timed_out: 'bad', withdrawn: '', gateway_stopped: 'bad', pending: 'warn' };

function History() {
  const client = useClient();
  const [items, setItems] = useState<ApprovalDto[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const load = useCallback(() => {
    setError(null);
    client.call('approvals.list', { all: true, limit: 500 }).then(setItems, (err: Error) => setError(err.message));
  }, [client]);
  useEffect(load, [load]);
  useEvent('approval.decided', (a) => setItems((cur) => (cur ? mergeHistory(cur, a) : cur)));
  useEvent('approval.requested', (a) => setItems((cur) => (cur ? mergeHistory(cur, a) : cur)));
  if (error)
    return (
      <p className="error" role="alert">
        Could not load the history: {error}{' '}
        <button className="link" onClick={load}>
          Try again
        </button>
      </p>
    );
  if (!items) return <p className="muted">Loading history…</p>;
  if (items.length === 0)
    return (
      <div className="empty">
        <p>No approval requests yet.</p>
        <p className="muted">Every request held by policy is kept here with who decided it, when and why.</p>
      </div>
    );
  return (
    <div className="table-wrap">
      <table className="grid" aria-label="Approval history">
        <thead>
          <tr>
            <th>Requested</th>
            <th>Agent</th>
            <th>Connection</th>
            <th>Rule</th>
            <th>Status</th>
            <th>Decided by</th>
            <th>Reason / scope</th>
            <th>Statement</th>
          </tr>
        </thead>
        <tbody>
          {items.map((a) => (
            <tr key={a.id} data-history={a.id}>
              <td>{formatTime(a.requestedAt)}</td>
              <td>{a.agentName}</td>
              <td>{a.connectionName}</td>
              <td>
                <code>{a.rule}</code>
              </td>
              <td>
                <span className={`badge ${STATUS_BADGE[a.status] ?? ''}`}>{a.status.replace('_', ' ')}</span>
              </td>
              <td>{a.decidedBy ?? <span className="muted">—</span>}</td>
              <td>{a.reason ?? (a.scope === 'session' && a.scopeUntil ? `session until ${formatTime(a.scopeUntil)}` : '')}</td>
              <td className="mono sql">{a.statement}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
