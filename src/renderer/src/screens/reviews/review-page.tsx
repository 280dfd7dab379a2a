import { Fragment, useCallback, useEffect, useRef, useState, type FormEvent } from 'react';
import { ContractError, type ReviewDto, type ReviewItemDto } from '../../../../shared/contract';
import { useClient, useEvent, useResync } from '../../contract-client/client-context';
import { formatTime } from '../../format';
import { canComplete, decisionLabel, expiryFromDate, formatCounts, formatDate, formatPeriod, mergeReviewItem, moveSelection, nextUndecided, progressOfItems, REVIEW_KEYS, reviewKeyAction, scopeLabel, toDateInput } from './review-model';
import { ReviewProgress } from './review-progress';
import './reviews.css';

type Mode = 'keep' | 'revoke' | 'expiry';
interface Editing {
  grantId: string;
  mode: Mode;
  focus: 'comment' | 'date';
}

const isTyping = (t: EventTarget | null) => t instanceof HTMLElement && (t.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(t.tagName));
const COLUMNS = 11;
const rowKey = (i: ReviewItemDto) => `${i.agentName} on ${i.connectionName}`;

/**
 * One access review (`#/reviews/<id>`): the campaign's period, scope and progress, and a table of its
 * entitlements (agent x connection) with the evidence of the period. Each is kept, revoked (at once on the
 * gateway) or given a new expiry, with a comment; keys in the legend. Complete signs the decisions.
 * Live: decisions made elsewhere (CLI, another console) arrive as review.changed events.
 */
export function ReviewPage({ id, onBack }: { id: string; onBack: () => void }) {
  const client = useClient();
  const [data, setData] = useState<{ review: ReviewDto; items: ReviewItemDto[] } | null>(null);
  const [loadError, setLoadError] = useState<{ message: string; notFound: boolean } | null>(null);
  const [selected, setSelected] = useState<string | null>(null);
  const [expanded, setExpanded] = useState<Set<string>>(new Set());
  const [editing, setEditing] = useState<Editing | null>(null);
  const [busy, setBusy] = useState<string | null>(null);
  const [actionError, setActionError] = useState<string | null>(null);
  const [completing, setCompleting] = useState(false);

  const load = useCallback(() => {
    setLoadError(null);
    client.call('reviews.get', { id }).then(
      (r) => {
        setData(r);
        setSelected((cur) => cur ?? r.items.find((i) => i.decision === null)?.grantId ?? r.items[0]?.grantId ?? null);
      },
      (err: Error) => setLoadError({ message: err.message, notFound: err instanceof ContractError && err.code === 'not_found' }),
    );
  }, [client, id]);
  useEffect(load, [load]);
  useResync(load);
  useEvent('review.changed', (p) => {
    if (p.review.id !== id) return;
    setData((cur) => cur && { review: p.review, items: p.item ? mergeReviewItem(cur.items, p.item) : cur.items });
  });
  useEvent('grant.changed', (g) =>
    setData((cur) => cur && { ...cur, items: cur.items.map((i) => (i.grantId === g.id ? { ...i, grantStatus: g.status, grantExpiresAt: g.expiresAt } : i)) }),
  );

  const items = data?.items ?? [];
  const complete = data ? data.review.completedAt !== null : false;
  const ids = items.map((i) => i.grantId);

  const focusRow = (grantId: string) => document.querySelector<HTMLElement>(`tr[data-grant="${CSS.escape(grantId)}"]`)?.focus();

  const keyState = useRef<{ ids: string[]; selected: string | null; items: ReviewItemDto[]; complete: boolean; busy: string | null; decide: (item: ReviewItemDto, mode: Mode) => void }>(null!);

  const decide = useCallback(
    (item: ReviewItemDto, mode: Mode, extra: { comment?: string; expiresInSeconds?: number } = {}) => {
      setBusy(item.grantId);
      setActionError(null);
      client.call('reviews.decide', { id, grantId: item.grantId, decision: mode, ...extra }).then(
        (decided) => {
          setBusy(null);
          setEditing(null);
          setData((cur) => cur && { ...cur, items: mergeReviewItem(cur.items, decided) });
          // Move on to the next undecided entitlement, as a reviewer works down the list.
          const target = nextUndecided(keyState.current.items, decided.grantId);
          setSelected(target);
          requestAnimationFrame(() => focusRow(target));
        },
        (err: Error) => {
          setBusy(null);
          setActionError(`Could not record the decision for ${rowKey(item)}: ${err.message}. Nothing was changed; try again.`);
        },
      );
    },
    [client, id],
  );

  // Keys: on the page, not inside a field (the decision form handles its own Enter and Escape).
  keyState.current = { ids, selected, items, complete, busy, decide };
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (isTyping(e.target)) return;
      const action = reviewKeyAction(e);
      if (!action) return;
      const s = keyState.current;
      const item = s.items.find((i) => i.grantId === s.selected) ?? null;
      const target = e.target as HTMLElement | null;
      if (action === 'down' || action === 'up') {
        const next = moveSelection(s.ids, s.selected, action === 'down' ? 1 : -1);
        if (!next) return;
        setSelected(next);
        focusRow(next);
      } else if (action === 'expand') {
        // Enter on a button or link is that control's own click.
        if (!item || (target && target !== document.body && !target.dataset.grant)) return;
        setExpanded((cur) => toggle(cur, item.grantId));
      } else if (action === 'close') {
        setEditing(null);
      } else {
        if (!item || s.complete || s.busy) return;
        if (action === 'keep') s.decide(item, 'keep');
        else if (action === 'revoke') setEditing({ grantId: item.grantId, mode: 'revoke', focus: 'comment' });
        else if (action === 'expiry') setEditing({ grantId: item.grantId, mode: 'expiry', focus: 'date' });
        else setEditing({ grantId: item.grantId, mode: item.decision ?? 'keep', focus: 'comment' });
      }
      e.preventDefault();
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, []);

  const completeReview = () => {
    setCompleting(true);
    setActionError(null);
    client.call('reviews.complete', { id }).then(
      (review) => {
        setCompleting(false);
        setData((cur) => cur && { ...cur, review });
      },
      (err: Error) => {
        setCompleting(false);
        setActionError(`Could not complete the review: ${err.message}`);
      },
    );
  };

  if (loadError)
    return (
      <section className="screen" aria-labelledby="review-title">
        <header className="screen-header">
          <h1 id="review-title">Access review</h1>
          <a href="#/reviews">All reviews</a>
        </header>
        {loadError.notFound ? (
          <div className="empty">
            <p>This review does not exist.</p>
            <p className="muted">
              The link may be from another installation. Open the <a href="#/reviews">list of reviews</a> or start a new one there.
            </p>
          </div>
        ) : (
          <p className="error" role="alert">
            Could not load the review: {loadError.message}{' '}
            <button className="link" onClick={load}>
              Try again
            </button>
          </p>
        )}
      </section>
    );
  if (!data)
    return (
      <section className="screen" aria-busy="true">
        <p className="muted">Loading the review…</p>
      </section>
    );

  const { review } = data;
  const progress = progressOfItems(items);
  const open = progress.total - progress.decided;
  return (
    <section className="screen" aria-labelledby="review-title">
      <p className="small">
        <a
          href="#/reviews"
          onClick={(e) => {
            e.preventDefault();
            onBack();
          }}
        >
          ← All reviews
        </a>
      </p>
      <div className="review-head">
        <div>
          <h1 id="review-title">{review.name}</h1>
          <dl className="facts">
            <dt>Period</dt>
            <dd data-period>{formatPeriod(review)}</dd>
            <dt>Scope</dt>
            <dd>{scopeLabel(review.scope)}</dd>
            <dt>Started</dt>
            <dd>
              {formatTime(review.createdAt)} by {review.createdBy}
            </dd>
            <dt>Status</dt>
            <dd>{complete ? <span className="badge good">complete, signed</span> : <span className="badge warn">open</span>}</dd>
          </dl>
        </div>
        <ReviewProgress big decided={progress.decided} total={progress.total} label="Entitlements decided" />
      </div>

      <div className="review-toolbar">
        <button className="primary" disabled={!canComplete(review, items) || completing} onClick={completeReview}>
          {completing ? 'Signing…' : complete ? 'Completed' : 'Complete review'}
        </button>
        <span className="muted small" aria-live="polite">
          {complete
            ? `Completed ${formatTime(review.completedAt!)} by ${review.completedBy}; decisions can no longer change.`
            : items.length === 0
              ? 'Nothing to decide.'
              : open > 0
                ? `${open} of ${progress.total} entitlement${progress.total === 1 ? '' : 's'} still need${open === 1 ? 's' : ''} a decision.`
                : 'Every entitlement is decided: complete the review to sign it.'}
        </span>
        <span className="muted shortcuts">
          {REVIEW_KEYS.map((k, n) => (
            <Fragment key={k.label}>
              {n > 0 && ' · '}
              {k.keys.map((x, m) => (
                <Fragment key={x}>
                  {m > 0 && '/'}
                  <kbd>{x}</kbd>
                </Fragment>
              ))}{' '}
              {k.label}
            </Fragment>
          ))}
        </span>
      </div>

      {actionError && (
        <p className="error" role="alert">
          {actionError}
        </p>
      )}

      {items.length === 0 ? (
        <div className="empty">
          <p>No entitlements in this review.</p>
          <p className="muted">
            No grant was in force for {scopeLabel(review.scope)} during {formatPeriod(review)}. Grant connections on the <a href="#/agents">Agents</a> screen, or
            start a review with a wider period or scope on the <a href="#/reviews">Reviews</a> screen.
          </p>
        </div>
      ) : (
        <div className="table-wrap">
          <table className="grid review-table" aria-label="Entitlements">
            <thead>
              <tr>
                <th aria-label="Evidence" />
                <th>Agent</th>
                <th>Connection</th>
                <th className="num">Sessions</th>
                <th>Statements</th>
                <th title="Distinct tables read / written">Tables r/w</th>
                <th className="num">Blocks</th>
                <th className="num" title="Statements held for approval">Held</th>
                <th className="num">Masked</th>
                <th>Last use</th>
                <th>Decision</th>
              </tr>
            </thead>
            <tbody>
              {items.map((item) => (
                <EntitlementRows
                  key={item.grantId}
                  item={item}
                  selected={item.grantId === selected}
                  tabbable={item.grantId === (selected ?? ids[0])}
                  expanded={expanded.has(item.grantId)}
                  editing={editing?.grantId === item.grantId ? editing : null}
                  busy={busy === item.grantId}
                  locked={complete || busy !== null}
                  onSelect={() => setSelected(item.grantId)}
                  onToggle={() => setExpanded((cur) => toggle(cur, item.grantId))}
                  onEdit={(mode, focus) => {
                    setSelected(item.grantId);
                    setEditing({ grantId: item.grantId, mode, focus });
                  }}
                  onCancel={() => {
                    setEditing(null);
                    focusRow(item.grantId);
                  }}
                  onDecide={(mode, extra) => decide(item, mode, extra)}
                />
              ))}
            </tbody>
          </table>
        </div>
      )}

      {complete && <SignedCompletion review={review} />}
    </section>
  );
}

function toggle(set: Set<string>, id: string): Set<string> {
  const next = new Set(set);
  if (next.has(id)) next.delete(id);
  else next.add(id);
  return next;
}

function EntitlementRows({
  item,
  selected,
  tabbable,
  expanded,
  editing,
  busy,
  locked,
  onSelect,
  onToggle,
  onEdit,
  onCancel,
  onDecide,
}: {
  item: ReviewItemDto;
  selected: boolean;
  tabbable: boolean;
  expanded: boolean;
  editing: Editing | null;
  busy: boolean;
  locked: boolean;
  onSelect: () => void;
  onToggle: () => void;
  onEdit: (mode: Mode, focus: 'comment' | 'date') => void;
  onCancel: () => void;
  onDecide: (mode: Mode, extra?: { comment?: string; expiresInSeconds?: number }) => void;
}) {
  const e = item.evidence;
  const read = e.tablesRead ?? [];
  const written = e.tablesWritten ?? [];
  const detailId = `evidence-${item.grantId}`;
  return (
    <>
      <tr
        className={`entitlement${selected ? ' selected' : ''}${item.decision ? ' decided' : ''}`}
        data-grant={item.grantId}
        data-agent={item.agentName}
        data-decision={item.decision ?? 'none'}
        tabIndex={tabbable ? 0 : -1}
        aria-current={selected ? 'true' : undefined}
        onClick={onSelect}
        onFocus={onSelect}
      >
        <td>
          <button
            className="expander"
            aria-expanded={expanded}
            aria-controls={expanded ? detailId : undefined}
            aria-label={`${expanded ? 'Hide' : 'Show'} evidence for ${rowKey(item)}`}
            tabIndex={-1}
            onClick={onToggle}
          >
            {expanded ? '▾' : '▸'}
          </button>
        </td>
        <td>{item.agentName}</td>
        <td>{item.connectionName}</td>
        <td className="num" data-evidence="sessions">
          {e.sessions.toLocaleString()}
        </td>
        <td data-evidence="statements">
          {e.statements.toLocaleString()}
          {e.statements > 0 && <span className="by-kind">{formatCounts(e.statementsByCommand)}</span>}
          {e.channelsByKind && Object.keys(e.channelsByKind).length > 0 && <span className="by-kind">ssh: {formatCounts(e.channelsByKind)}</span>}
        </td>
        <td data-evidence="tables" title={read.length || written.length ? `read: ${read.join(', ') || 'none'}\nwritten: ${written.join(', ') || 'none'}` : undefined}>
          {read.length} / {written.length}
        </td>
        <td className="num" data-evidence="blocks">
          {(e.blocks ?? 0) > 0 ? <span className="badge blocked">{e.blocks}</span> : 0}
        </td>
        <td className="num" data-evidence="held">
          {e.approvalCount ?? 0}
        </td>
        <td className="num" data-evidence="masked">
          {(e.maskedValues ?? 0).toLocaleString()}
        </td>
        <td title={e.lastUsedAt ? formatTime(e.lastUsedAt) : undefined}>{e.unused ? <span className="badge warn" data-unused>unused</span> : e.lastUsedAt ? formatDate(e.lastUsedAt) : '—'}</td>
        <td className="decision-cell">
          <DecisionCell item={item} busy={busy} locked={locked} onEdit={onEdit} onKeep={() => onDecide('keep')} />
        </td>
      </tr>
      {editing && (
        <tr className="row-detail">
          <td colSpan={COLUMNS}>
            <DecideForm key={`${editing.mode}-${editing.focus}`} item={item} editing={editing} busy={busy} onCancel={onCancel} onDecide={onDecide} />
          </td>
        </tr>
      )}
      {expanded && (
        <tr className="row-detail" id={detailId}>
          <td colSpan={COLUMNS}>
            <Evidence item={item} />
          </td>
        </tr>
      )}
    </>
  );
}

const DECISION_BADGE: Record<Mode, string> = { keep: 'good', revoke: 'bad', expiry: 'warn' };

function DecisionCell({ item, busy, locked, onEdit, onKeep }: { item: ReviewItemDto; busy: boolean; locked: boolean; onEdit: (mode: Mode, focus: 'comment' | 'date') => void; onKeep: () => void }) {
  if (busy) return <span className="muted">Saving…</span>;
  if (item.decision)
    return (
      <>
        <span className={`badge ${DECISION_BADGE[item.decision]}`} data-decided={item.decision}>
          {decisionLabel(item, formatDate)}
        </span>{' '}
        <span className="muted small" title={item.decidedAt ? formatTime(item.decidedAt) : undefined}>
          by {item.decidedBy}
        </span>
        {!locked && (
          <>
            {' · '}
            <button className="link small" onClick={() => onEdit(item.decision!, 'comment')}>
              Change
            </button>
          </>
        )}
        {item.comment && (
          <span className="decision-note" title={item.comment} data-comment>
            “{item.comment}”
          </span>
        )}
      </>
    );
  return (
    <div className="decision-buttons">
      <button className="secondary" disabled={locked} onClick={onKeep}>
        Keep
      </button>
      <button className="danger" disabled={locked} onClick={() => onEdit('revoke', 'comment')}>
        Revoke…
      </button>
      <button className="secondary" disabled={locked} onClick={() => onEdit('expiry', 'date')}>
        Expiry…
      </button>
    </div>
  );
}

const MODE_ACTION: Record<Mode, string> = { keep: 'Keep', revoke: 'Revoke now', expiry: 'Set expiry' };

function DecideForm({ item, editing, busy, onCancel, onDecide }: { item: ReviewItemDto; editing: Editing; busy: boolean; onCancel: () => void; onDecide: (mode: Mode, extra?: { comment?: string; expiresInSeconds?: number }) => void }) {
  const [mode, setMode] = useState<Mode>(editing.mode);
  const [comment, setComment] = useState(item.comment ?? '');
  const defaultDate = toDateInput((item.newExpiresAt ? Date.parse(item.newExpiresAt) : Date.now() + 30 * 86_400_000) - 1);
  const [date, setDate] = useState(defaultDate);
  const [error, setError] = useState<string | null>(null);
  const submit = (ev: FormEvent, chosen: Mode = mode) => {
    ev.preventDefault();
    const extra: { comment?: string; expiresInSeconds?: number } = comment.trim() ? { comment: comment.trim() } : {};
    if (chosen === 'expiry') {
      const r = expiryFromDate(date, Date.now());
      if ('error' in r) {
        setMode('expiry');
        setError(r.error);
        return;
      }
      extra.expiresInSeconds = r.seconds;
    }
    onDecide(chosen, extra);
  };
  return (
    <form
      className="decide-form"
      aria-label={`Decide ${rowKey(item)}`}
      onSubmit={submit}
      onKeyDown={(ev) => {
        if (ev.key === 'Escape') {
          ev.preventDefault();
          ev.stopPropagation();
          onCancel();
        }
      }}
    >
      <label className="comment">
        Comment (kept with the decision in the audit log)
        <input
          name="comment"
          value={comment}
          maxLength={2000}
          autoFocus={editing.focus === 'comment'}
          onChange={(ev) => setComment(ev.target.value)}
          placeholder={mode === 'revoke' ? 'e.g. no longer needed after the migration' : 'optional'}
        />
      </label>
      {mode === 'expiry' && (
        <label>
          Access ends after
          <input name="expiry" type="date" value={date} min={toDateInput(Date.now())} autoFocus={editing.focus === 'date'} onChange={(ev) => setDate(ev.target.value)} aria-invalid={error ? true : undefined} />
        </label>
      )}
      <button type="submit" className={mode === 'revoke' ? 'danger' : 'primary'} disabled={busy}>
        {MODE_ACTION[mode]} <span className="muted small">Enter</span>
      </button>
      {(['keep', 'revoke', 'expiry'] as const)
        .filter((m) => m !== mode)
        .map((m) => (
          <button key={m} type="button" className="secondary" disabled={busy} onClick={(ev) => (m === 'expiry' ? setMode('expiry') : submit(ev, m))}>
            {m === 'expiry' ? 'Change expiry…' : MODE_ACTION[m]}
          </button>
        ))}
      <button type="button" className="link" onClick={onCancel}>
        Cancel <span className="muted small">Esc</span>
      </button>
      {mode === 'revoke' && <span className="muted small">Revoking ends the agent&apos;s open sessions on this connection at once.</span>}
      {error && (
        <span className="field-error" role="alert">
          {error}
        </span>
      )}
    </form>
  );
}

function Evidence({ item }: { item: ReviewItemDto }) {
  const e = item.evidence;
  const list = (xs: string[] | undefined) => (xs && xs.length ? xs.map((t) => <code key={t}>{t}</code>) : <span className="muted">none</span>);
  const approvals = e.approvals ?? [];
  return (
    <div className="evidence-grid" aria-label={`Evidence for ${rowKey(item)}`}>
      <div>
        <h3>Use</h3>
        <p>
          {e.sessions.toLocaleString()} session{e.sessions === 1 ? '' : 's'}, {e.statements.toLocaleString()} statement{e.statements === 1 ? '' : 's'}
        </p>
        <p className="muted">{e.lastUsedAt ? `last ${formatTime(e.lastUsedAt)}` : 'not used in the period'}</p>
      </div>
      <div>
        <h3>Statements by command</h3>
        <p>{formatCounts(e.statementsByCommand) || <span className="muted">none</span>}</p>
        {e.channelsByKind && Object.keys(e.channelsByKind).length > 0 && <p>SSH channels: {formatCounts(e.channelsByKind)}</p>}
      </div>
      <div>
        <h3>Tables read</h3>
        <p>{list(e.tablesRead)}</p>
      </div>
      <div>
        <h3>Tables written</h3>
        <p>{list(e.tablesWritten)}</p>
        {e.tablesPartial && <p className="muted small">From the 500 most used distinct statements; this agent sent more.</p>}
      </div>
      <div>
        <h3>Refused</h3>
        <p>
          {e.blocks ?? 0} blocked by policy, {e.denials} login or access denial{e.denials === 1 ? '' : 's'}
        </p>
      </div>
      <div>
        <h3>Masked</h3>
        <p>
          {(e.maskedValues ?? 0).toLocaleString()} value{e.maskedValues === 1 ? '' : 's'} masked
        </p>
        {e.maskedByDetector && Object.keys(e.maskedByDetector).length > 0 && (
          <ul className="plain-list small" aria-label="Masked values by detector">
            {Object.entries(e.maskedByDetector)
              .sort((a, b) => b[1] - a[1])
              .map(([d, n]) => (
                <li key={d}>
                  <code>{d}</code> {n.toLocaleString()}
                </li>
              ))}
          </ul>
        )}
      </div>
      <div>
        <h3>Grant</h3>
        <p>
          {item.grantStatus ?? 'removed'}
          {item.grantExpiresAt ? `, expires ${formatTime(item.grantExpiresAt)}` : item.grantStatus === 'active' ? ', no expiry' : ''}
        </p>
      </div>
      <div className="wide">
        <h3>Approvals ({e.approvalCount ?? 0})</h3>
        {approvals.length === 0 ? (
          <p className="muted">No statement of this agent was held for approval in the period.</p>
        ) : (
          <table className="grid" aria-label={`Approvals for ${rowKey(item)}`}>
            <thead>
              <tr>
                <th>Statement</th>
                <th>Rule</th>
                <th>Outcome</th>
                <th>Decided by</th>
                <th>Reason</th>
              </tr>
            </thead>
            <tbody>
              {approvals.map((a) => (
                <tr key={a.id}>
                  <td className="mono sql">{a.statement}</td>
                  <td>
                    <code>{a.rule}</code>
                  </td>
                  <td>{a.status.replace('_', ' ')}</td>
                  <td>{a.decidedBy ? `${a.decidedBy}${a.decidedAt ? `, ${formatTime(a.decidedAt)}` : ''}` : '—'}</td>
                  <td>{a.reason ?? ''}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        {(e.approvalCount ?? 0) > approvals.length && <p className="muted small">and {(e.approvalCount ?? 0) - approvals.length} earlier requests</p>}
      </div>
    </div>
  );
}

function SignedCompletion({ review }: { review: ReviewDto }) {
  return (
    <section className="card signed" aria-label="Signed completion">
      <h2>Signed completion</h2>
      <dl className="facts">
        <dt>Completed</dt>
        <dd>
          {review.completedAt ? formatTime(review.completedAt) : '—'} by {review.completedBy}
        </dd>
        <dt>Digest (SHA-256)</dt>
        <dd>
          <code data-digest>{review.digest}</code>
        </dd>
        <dt>Signing key</dt>
        <dd>
          Ed25519, fingerprint <code data-key-fingerprint>{review.keyFingerprint ?? 'unknown'}</code>
        </dd>
        <dt>Signature</dt>
        <dd>
          <code data-signature>{review.signature}</code>
        </dd>
      </dl>
      <p className="muted small">
        The signature covers every decision with its evidence; evidence packs for this period carry the review and verify it offline.
        {review.evidenceAsSigned ? ' The evidence shown here is the signed evidence, as it was at completion.' : ''}
      </p>
    </section>
  );
}
