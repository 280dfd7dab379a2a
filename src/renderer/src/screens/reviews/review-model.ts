import type { CommandInput, ReviewDto, ReviewItemDto } from '../../../../shared/contract';

/** What a key press does on the review page. */
export type ReviewKeyAction = 'down' | 'up' | 'keep' | 'revoke' | 'expiry' | 'comment' | 'expand' | 'close';

/**
 * The review page's keys (shown in its legend): j/k or the arrows move, y keeps, r revokes, e changes the
 * expiry, c comments, Enter opens the evidence, Esc closes. `k` moves (as in every list of the console),
 * so keep is `y` (yes). Modified keys belong to the browser.
 */
export function reviewKeyAction(e: { key: string; ctrlKey?: boolean; metaKey?: boolean; altKey?: boolean }): ReviewKeyAction | null {
  if (e.ctrlKey || e.metaKey || e.altKey) return null;
  switch (e.key) {
    case 'j':
    case 'ArrowDown':
      return 'down';
    case 'k':
    case 'ArrowUp':
      return 'up';
    case 'y':
      return 'keep';
    case 'r':
      return 'revoke';
    case 'e':
      return 'expiry';
    case 'c':
      return 'comment';
    case 'Enter':
      return 'expand';
    case 'Escape':
      return 'close';
    default:
      return null;
  }
}

/** The legend of the keys above, in the order shown. */
export const REVIEW_KEYS: { keys: string[]; label: string }[] = [
  { keys: ['j', 'k'], label: 'move' },
  { keys: ['y'], label: 'keep' },
  { keys: ['r'], label: 'revoke' },
  { keys: ['e'], label: 'expiry' },
  { keys: ['c'], label: 'comment' },
  { keys: ['Enter'], label: 'evidence' },
];

/** The id after moving `delta` rows from `current` (clamped to the list; the first row when nothing is selected). */
export function moveSelection(ids: readonly string[], current: string | null, delta: number): string | null {
  if (ids.length === 0) return null;
  const i = current === null ? -1 : ids.indexOf(current);
  if (i < 0) return ids[0];
  return ids[Math.min(ids.length - 1, Math.max(0, i + delta))];
}

/**
 * Where the selection goes after `grantId` is decided: the next undecided entitlement below it, else the
 * first undecided one above it, else it stays.
 */
export function nextUndecided(items: readonly Pick<ReviewItemDto, 'grantId' | 'decision'>[], grantId: string): string {
  const at = items.findIndex((i) => i.grantId === grantId);
  const open = (i: Pick<ReviewItemDto, 'grantId' | 'decision'>) => i.decision === null && i.grantId !== grantId;
  return (items.slice(at + 1).find(open) ?? items.slice(0, Math.max(0, at)).find(open))?.grantId ?? grantId;
}

/** Decided and total entitlements, and the share decided in whole percent (100 only when all are decided). */
export function reviewProgress(p: { decided: number; total: number }): { decided: number; total: number; percent: number } {
  const percent = p.total === 0 ? 100 : p.decided >= p.total ? 100 : Math.floor((p.decided / p.total) * 100);
  return { decided: p.decided, total: p.total, percent };
}

/** The progress of a list of items (what the header shows while decisions arrive). */
export function progressOfItems(items: readonly Pick<ReviewItemDto, 'decision'>[]): { decided: number; total: number } {
  return { decided: items.filter((i) => i.decision !== null).length, total: items.length };
}

/** Whether the review can be completed: open, with at least one entitlement, each decided. */
export function canComplete(review: Pick<ReviewDto, 'completedAt'>, items: readonly Pick<ReviewItemDto, 'decision'>[]): boolean {
  return review.completedAt === null && items.length > 0 && items.every((i) => i.decision !== null);
}

/**
 * An item list with one decided item (review.changed event or a decide answer) merged in by grant. Evidence
 * fields the newer copy lacks (the tables, which only `reviews.get` works out) are kept from the older one.
 */
export function mergeReviewItem(items: readonly ReviewItemDto[], item: ReviewItemDto): ReviewItemDto[] {
  return items.map((x) => (x.grantId === item.grantId ? { ...x, ...item, evidence: { ...x.evidence, ...stripUndefined(item.evidence) } } : x));
}

/** A review list with one changed review merged in: replaced by id, or added on top. */
export function mergeReview(list: readonly ReviewDto[], r: ReviewDto): ReviewDto[] {
  const i = list.findIndex((x) => x.id === r.id);
  if (i < 0) return [r, ...list];
  const next = list.slice();
  next[i] = r;
  return next;
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** Counts by kind as "SELECT 12 · INSERT 3", the largest first (ties by name); "" when there are none. */
export function formatCounts(byKind: Record<string, number> | undefined): string {
  return Object.entries(byKind ?? {})
    .filter(([, n]) => n > 0)
    .sort(([a, x], [b, y]) => y - x || a.localeCompare(b))
    .map(([k, n]) => `${k} ${n.toLocaleString('en-US')}`)
    .join(' · ');
}

/** A campaign's scope in words: "all agents and connections", "agents tagged ai", "agent bot on connection shop" ... */
export function scopeLabel(scope: ReviewDto['scope']): string {
  const parts: string[] = [];
  if (scope.agent) parts.push(`agent ${scope.agent}`);
  if (scope.agentTag) parts.push(`agents tagged ${scope.agentTag}`);
  if (scope.connection) parts.push(`connection ${scope.connection}`);
  if (scope.connectionTag) parts.push(`connections tagged ${scope.connectionTag}`);
  return parts.length ? parts.join(', ') : 'all agents and connections';
}

/** A date input's value (YYYY-MM-DD) as local midnight at its start, or null when it is not a date. */
export function localDayStart(date: string): number | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(date);
  if (!m) return null;
  const d = new Date(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
  return d.getFullYear() === Number(m[1]) && d.getMonth() === Number(m[2]) - 1 && d.getDate() === Number(m[3]) ? d.getTime() : null;
}

/** Local midnight after the given day: the end of a period or an expiry chosen as a date. */
export function localDayEnd(date: string): number | null {
  const start = localDayStart(date);
  if (start === null) return null;
  const d = new Date(start);
  d.setDate(d.getDate() + 1);
  return d.getTime();
}

/** A timestamp as a date input's value (YYYY-MM-DD, local). */
export function toDateInput(ms: number): string {
  const d = new Date(ms);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}

/**
 * The `expiresInSeconds` for "expires at the end of this day": seconds from `now` to the local midnight
 * after `date`; an error message when the date is missing or already over.
 */
export function expiryFromDate(date: string, now: number): { seconds: number } | { error: string } {
  const end = localDayEnd(date);
  if (end === null) return { error: 'Pick the day the access should end.' };
  if (end <= now) return { error: 'That day is over: pick today or a later day.' };
  return { seconds: Math.ceil((end - now) / 1000) };
}

/** Who a new review covers, as the start form offers it. */
export type ScopeKind = 'all' | 'agentTag' | 'connectionTag' | 'agent' | 'connection';

export const SCOPE_KINDS: { kind: ScopeKind; label: string }[] = [
  { kind: 'all', label: 'All agents and connections' },
  { kind: 'agentTag', label: 'Agents with a tag' },
  { kind: 'connectionTag', label: 'Connections with a tag' },
  { kind: 'agent', label: 'One agent' },
  { kind: 'connection', label: 'One connection' },
];

/**
 * The `reviews.start` input for the start form's fields (a whole-day period in local time), or the
 * field errors to show instead.
 */
export function startReviewInput(f: { name: string; from: string; to: string; scope: ScopeKind; value: string }):
  | { input: CommandInput<'reviews.start'> }
  | { errors: Partial<Record<'name' | 'from' | 'to' | 'value', string>> } {
  const errors: Partial<Record<'name' | 'from' | 'to' | 'value', string>> = {};
  const start = localDayStart(f.from);
  const end = localDayEnd(f.to);
  if (!f.name.trim()) errors.name = 'Name the review, e.g. "Q4 production access".';
  if (start === null) errors.from = 'Pick the first day of the period.';
  if (end === null) errors.to = 'Pick the last day of the period.';
  else if (start !== null && end <= start) errors.to = 'The period must end on or after its first day.';
  const value = f.value.trim();
  if (f.scope !== 'all' && !value) errors.value = f.scope === 'agent' || f.scope === 'connection' ? `Choose the ${f.scope}.` : 'Type the tag.';
  if (Object.keys(errors).length) return { errors };
  return {
    input: {
      name: f.name.trim(),
      periodStart: new Date(start!).toISOString(),
      periodEnd: new Date(end!).toISOString(),
      ...(f.scope === 'all' ? {} : { [f.scope]: value }),
    },
  };
}

/** A decision in words, for the decided row: "Kept", "Revoked", "Expires Jan 5". */
export function decisionLabel(item: Pick<ReviewItemDto, 'decision' | 'newExpiresAt'>, formatDate: (iso: string) => string): string {
  if (item.decision === 'keep') return 'Kept';
  if (item.decision === 'revoke') return 'Revoked';
  if (item.decision === 'expiry') return item.newExpiresAt ? `Expires ${formatDate(item.newExpiresAt)}` : 'New expiry';
  return 'Undecided';
}

const dateFormat = new Intl.DateTimeFormat(undefined, { year: 'numeric', month: 'short', day: 'numeric' });

/** A day as "Dec 2, 2026" (local). */
export function formatDate(iso: string): string {
  return dateFormat.format(new Date(iso));
}

/** A period whose end is exclusive (midnight after its last day) as "Oct 1, 2026 – Dec 31, 2026", or one day. */
export function formatPeriod(r: Pick<ReviewDto, 'periodStart' | 'periodEnd'>): string {
  const first = formatDate(r.periodStart);
  const last = formatDate(new Date(Date.parse(r.periodEnd) - 1).toISOString());
  return first === last ? first : `${first} – ${last}`;
}
