import { useCallback, useEffect, useMemo, useState, type FormEvent } from 'react';
import type { AgentDto, ConnectionDto, ReviewDto } from '../../../../shared/contract';
import { useClient, useEvent, useResync } from '../../contract-client/client-context';
import { formErrors } from '../../form-helpers';
import { formatTime } from '../../format';
import { formatDate, formatPeriod, mergeReview, SCOPE_KINDS, scopeLabel, startReviewInput, toDateInput, type ScopeKind } from './review-model';
import { ReviewProgress } from './review-progress';
import './reviews.css';

/**
 * Access reviews: every campaign with its period, scope, status and progress (live from review.changed),
 * and a form to start one. A campaign lists each grant in force during its period for a keep / revoke /
 * new-expiry decision (the review page). `startFor` (`#/reviews?agent=NAME`, linked from the Agents
 * screen) opens the form for one agent.
 */
export function ReviewsScreen({ onOpen, startFor }: { onOpen: (id: string) => void; startFor?: string }) {
  const client = useClient();
  const [reviews, setReviews] = useState<ReviewDto[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [starting, setStarting] = useState(startFor !== undefined);
  const load = useCallback(() => {
    setError(null);
    client.call('reviews.list', {}).then(setReviews, (err: Error) => setError(err.message));
  }, [client]);
  useEffect(load, [load]);
  useResync(load);
  useEvent('review.changed', (p) => setReviews((cur) => (cur ? mergeReview(cur, p.review) : cur)));

  return (
    <section className="screen" aria-labelledby="reviews-title">
      <header className="screen-header">
        <h1 id="reviews-title">Access reviews</h1>
        <span className="muted">{reviews ? `${reviews.length} review${reviews.length === 1 ? '' : 's'}` : ''}</span>
        <button className="primary push-right" onClick={() => setStarting(true)} disabled={starting}>
          Start review
        </button>
      </header>
      {starting && <StartReviewForm agent={startFor} onCancel={() => setStarting(false)} onStarted={(r) => onOpen(r.id)} />}
      {error && (
        <p className="error" role="alert">
          Could not load the reviews: {error}{' '}
          <button className="link" onClick={load}>
            Try again
          </button>
        </p>
      )}
      {!reviews && !error && <p className="muted">Loading reviews…</p>}
      {reviews?.length === 0 && !starting && (
        <div className="empty">
          <p>No access reviews yet.</p>
          <p className="muted">
            A review covers a period and a scope. For every grant (agent × connection) in force during the period it shows what the agent did, and you decide:
            keep, revoke (at once on the gateway) or change the expiry. Use <strong>Start review</strong>; the completed review is signed.
          </p>
        </div>
      )}
      {reviews && reviews.length > 0 && (
        <div className="table-wrap">
          <table className="grid reviews-list" aria-label="Access reviews">
            <thead>
              <tr>
                <th>Name</th>
                <th>Period</th>
                <th>Scope</th>
                <th>Status</th>
                <th>Progress</th>
                <th>Started</th>
              </tr>
            </thead>
            <tbody>
              {reviews.map((r) => (
                <tr key={r.id} data-review={r.id} onClick={() => onOpen(r.id)}>
                  <td>
                    <a href={`#/reviews/${encodeURIComponent(r.id)}`}>{r.name}</a>
                  </td>
                  <td>{formatPeriod(r)}</td>
                  <td>{scopeLabel(r.scope)}</td>
                  <td>{r.completedAt ? <span className="badge good">complete</span> : <span className="badge warn">open</span>}</td>
                  <td>
                    <ReviewProgress decided={r.progress.decided} total={r.progress.total} label={`${r.name}: entitlements decided`} />
                  </td>
                  <td title={formatTime(r.createdAt)}>
                    {formatDate(r.createdAt)} <span className="muted">by {r.createdBy}</span>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

function StartReviewForm({ agent, onStarted, onCancel }: { agent?: string; onStarted: (r: ReviewDto) => void; onCancel: () => void }) {
  const client = useClient();
  const today = toDateInput(Date.now());
  const [from, setFrom] = useState(toDateInput(Date.now() - 90 * 86_400_000));
  const [to, setTo] = useState(today);
  const [name, setName] = useState('');
  const [scope, setScope] = useState<ScopeKind>(agent ? 'agent' : 'all');
  const [value, setValue] = useState(agent ?? '');
  const [agents, setAgents] = useState<AgentDto[]>([]);
  const [connections, setConnections] = useState<ConnectionDto[]>([]);
  const [busy, setBusy] = useState(false);
  const [errors, setErrors] = useState<{ message: string | null; fields: Record<string, string> } | null>(null);
  useEffect(() => {
    Promise.all([client.call('agents.list', {}), client.call('connections.list', {})]).then(
      ([a, c]) => {
        setAgents(a);
        setConnections(c);
      },
      () => {},
    );
  }, [client]);
  const tags = useMemo(() => {
    const source = scope === 'agentTag' ? agents : scope === 'connectionTag' ? connections : [];
    return [...new Set(source.flatMap((x) => x.tags))].sort();
  }, [scope, agents, connections]);
  const defaultName = `Access review ${from} – ${to}`;

  const submit = (e: FormEvent) => {
    e.preventDefault();
    const r = startReviewInput({ name: name || defaultName, from, to, scope, value });
    if ('errors' in r) {
      setErrors({ message: null, fields: r.errors as Record<string, string> });
      return;
    }
    setBusy(true);
    setErrors(null);
    client.call('reviews.start', r.input).then(
      (review) => {
        setBusy(false);
        onStarted(review);
      },
      (err) => {
        setBusy(false);
        const f = formErrors(err);
        // The contract names the period fields; the form calls them from/to, and the scope field "value".
        const fields: Record<string, string> = { ...f.fields };
        if (fields.periodStart) fields.from = fields.periodStart;
        if (fields.periodEnd) fields.to = fields.periodEnd;
        for (const k of ['agent', 'connection', 'agentTag', 'connectionTag']) if (fields[k]) fields.value = fields[k];
        setErrors({ message: f.message, fields });
      },
    );
  };
  const choices = scope === 'agent' ? agents.map((a) => a.name) : scope === 'connection' ? connections.map((c) => c.name) : null;
  return (
    <form className="card form review-form" onSubmit={submit} aria-label="Start review" noValidate>
      <h2>Start an access review</h2>
      <div className="form-grid">
        <label className="wide">
          Name
          <input name="name" value={name} onChange={(e) => setName(e.target.value)} placeholder={defaultName} maxLength={200} autoFocus />
          {errors?.fields.name && <span className="field-error">{errors.fields.name}</span>}
        </label>
        <label>
          Period from
          <input name="from" type="date" value={from} max={to || today} onChange={(e) => setFrom(e.target.value)} required />
          {errors?.fields.from && <span className="field-error">{errors.fields.from}</span>}
        </label>
        <label>
          Period to <span className="muted">(the whole day)</span>
          <input name="to" type="date" value={to} min={from} onChange={(e) => setTo(e.target.value)} required />
          {errors?.fields.to && <span className="field-error">{errors.fields.to}</span>}
        </label>
        <label>
          Scope
          <select
            name="scope"
            value={scope}
            onChange={(e) => {
              setScope(e.target.value as ScopeKind);
              setValue('');
            }}
          >
            {SCOPE_KINDS.map((s) => (
              <option key={s.kind} value={s.kind}>
                {s.label}
              </option>
            ))}
          </select>
        </label>
        {scope !== 'all' && (
          <label>
            {scope === 'agent' ? 'Agent' : scope === 'connection' ? 'Connection' : 'Tag'}
            {choices ? (
              <select name="value" value={value} onChange={(e) => setValue(e.target.value)}>
                <option value="">Choose…</option>
                {choices.map((c) => (
                  <option key={c} value={c}>
                    {c}
                  </option>
                ))}
              </select>
            ) : (
              <>
                <input name="value" value={value} onChange={(e) => setValue(e.target.value)} list="review-scope-tags" placeholder={tags[0] ?? 'prod'} />
                <datalist id="review-scope-tags">
                  {tags.map((t) => (
                    <option key={t} value={t} />
                  ))}
                </datalist>
              </>
            )}
            {errors?.fields.value && <span className="field-error">{errors.fields.value}</span>}
          </label>
        )}
      </div>
      <p className="muted small">Every grant in force at some point of the period becomes an entitlement to decide, with the evidence of what the agent did then.</p>
      {errors?.message && (
        <p className="error" role="alert">
          {errors.message}
        </p>
      )}
      <div className="actions">
        <button type="submit" className="primary" disabled={busy}>
          {busy ? 'Starting…' : 'Start review'}
        </button>
        <button type="button" className="link" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}
