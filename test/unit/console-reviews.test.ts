import { describe, expect, it } from 'vitest';
import type { ReviewDto, ReviewItemDto } from '../../src/shared/contract';
import {
  canComplete,
  decisionLabel,
  expiryFromDate,
  formatCounts,
  localDayEnd,
  localDayStart,
  mergeReview,
  mergeReviewItem,
  moveSelection,
  nextUndecided,
  progressOfItems,
  reviewKeyAction,
  reviewProgress,
  scopeLabel,
  startReviewInput,
  toDateInput,
} from '../../src/renderer/src/screens/reviews/review-model';
import { parseRoute, routeHash } from '../../src/renderer/src/routes';

const item = (grantId: string, extra: Partial<ReviewItemDto> = {}): ReviewItemDto => ({
  grantId,
  agentName: `agent-${grantId}`,
  connectionName: 'shop',
  grantStatus: 'active',
  grantExpiresAt: null,
  evidence: { sessions: 0, statements: 0, statementsByCommand: {}, denials: 0, lastUsedAt: null, unused: true },
  decision: null,
  newExpiresAt: null,
  comment: null,
  decidedBy: null,
  decidedAt: null,
  ...extra,
});

const review = (id: string, extra: Partial<ReviewDto> = {}): ReviewDto => ({
  id,
  name: id,
  periodStart: '2026-10-01T00:00:00.000Z',
  periodEnd: '2027-01-01T00:00:00.000Z',
  scope: {},
  createdAt: '2026-12-01T00:00:00.000Z',
  createdBy: 'admin',
  completedAt: null,
  completedBy: null,
  digest: null,
  signature: null,
  publicKey: null,
  progress: { decided: 0, total: 0 },
  ...extra,
});

describe('review page keys', () => {
  it('maps the legend keys, k moves (keep is y), modified keys are the browser’s', () => {
    const keys = ['j', 'ArrowDown', 'k', 'ArrowUp', 'y', 'r', 'e', 'c', 'Enter', 'Escape', 'x', 'K'].map((key) => reviewKeyAction({ key }));
    expect(keys).toEqual(['down', 'down', 'up', 'up', 'keep', 'revoke', 'expiry', 'comment', 'expand', 'close', null, null]);
    expect(reviewKeyAction({ key: 'r', ctrlKey: true })).toBeNull();
    expect(reviewKeyAction({ key: 'y', metaKey: true })).toBeNull();
    expect(reviewKeyAction({ key: 'j', altKey: true })).toBeNull();
  });

  it('after a decision selects the next undecided row below, then above, else stays', () => {
    const items = [item('a'), item('b', { decision: 'keep' }), item('c'), item('d')];
    expect(nextUndecided(items, 'a')).toBe('c');
    expect(nextUndecided(items, 'c')).toBe('d');
    expect(nextUndecided(items, 'd')).toBe('a');
    expect(nextUndecided([item('a', { decision: 'keep' }), item('b')], 'b')).toBe('b');
    expect(nextUndecided(items, 'gone')).toBe('a');
  });

  it('moves the selection within the list and starts at the first row', () => {
    const ids = ['a', 'b', 'c'];
    expect(moveSelection(ids, null, 1)).toBe('a');
    expect(moveSelection(ids, 'gone', -1)).toBe('a');
    expect(moveSelection(ids, 'a', 1)).toBe('b');
    expect(moveSelection(ids, 'c', 1)).toBe('c');
    expect(moveSelection(ids, 'a', -1)).toBe('a');
    expect(moveSelection([], 'a', 1)).toBeNull();
  });
});

describe('review progress and completion', () => {
  it('reports whole percents and reaches 100 only when everything is decided', () => {
    expect(reviewProgress({ decided: 0, total: 3 })).toEqual({ decided: 0, total: 3, percent: 0 });
    expect(reviewProgress({ decided: 2, total: 3 })).toEqual({ decided: 2, total: 3, percent: 66 });
    expect(reviewProgress({ decided: 199, total: 200 }).percent).toBe(99);
    expect(reviewProgress({ decided: 3, total: 3 }).percent).toBe(100);
    expect(reviewProgress({ decided: 0, total: 0 }).percent).toBe(100);
    expect(progressOfItems([item('a', { decision: 'keep' }), item('b')])).toEqual({ decided: 1, total: 2 });
  });

  it('allows completion only for an open review whose every entitlement is decided', () => {
    const open = review('r');
    expect(canComplete(open, [item('a', { decision: 'keep' }), item('b')])).toBe(false);
    expect(canComplete(open, [item('a', { decision: 'keep' }), item('b', { decision: 'revoke' })])).toBe(true);
    expect(canComplete(open, [])).toBe(false);
    expect(canComplete(review('r', { completedAt: '2026-12-02T00:00:00.000Z' }), [item('a', { decision: 'keep' })])).toBe(false);
  });

  it('merges a decided item by grant and keeps evidence only reviews.get has (tables)', () => {
    const before = [item('a', { evidence: { ...item('a').evidence, tablesRead: ['orders'], tablesWritten: [] } }), item('b')];
    const decided = item('a', { decision: 'revoke', comment: 'gone', decidedBy: 'admin' });
    const after = mergeReviewItem(before, decided);
    expect(after[0]).toMatchObject({ decision: 'revoke', comment: 'gone', decidedBy: 'admin' });
    expect(after[0].evidence.tablesRead).toEqual(['orders']);
    expect(after[1]).toBe(before[1]);
    expect(mergeReviewItem(before, item('zzz', { decision: 'keep' }))).toEqual(before);
  });

  it('merges a changed review into the list, new ones on top', () => {
    const list = [review('a'), review('b')];
    expect(mergeReview(list, review('b', { name: 'B2' })).map((r) => r.name)).toEqual(['a', 'B2']);
    expect(mergeReview(list, review('c')).map((r) => r.id)).toEqual(['c', 'a', 'b']);
  });
});

describe('review evidence and labels', () => {
  it('formats counts by kind, largest first, ties by name, zeros left out', () => {
    expect(formatCounts({ INSERT: 1, SELECT: 12, ERROR: 1, UPDATE: 0 })).toBe('SELECT 12 · ERROR 1 · INSERT 1');
    expect(formatCounts({ SELECT: 1234 })).toBe('SELECT 1,234');
    expect(formatCounts({})).toBe('');
    expect(formatCounts(undefined)).toBe('');
  });

  it('describes a scope in words', () => {
    expect(scopeLabel({})).toBe('all agents and connections');
    expect(scopeLabel({ agentTag: 'ai' })).toBe('agents tagged ai');
    expect(scopeLabel({ agent: 'bot', connection: 'shop' })).toBe('agent bot, connection shop');
    expect(scopeLabel({ connectionTag: 'prod' })).toBe('connections tagged prod');
  });

  it('labels decisions', () => {
    const fmt = (iso: string) => iso.slice(0, 10);
    expect(decisionLabel({ decision: 'keep', newExpiresAt: null }, fmt)).toBe('Kept');
    expect(decisionLabel({ decision: 'revoke', newExpiresAt: null }, fmt)).toBe('Revoked');
    expect(decisionLabel({ decision: 'expiry', newExpiresAt: '2027-01-05T00:00:00.000Z' }, fmt)).toBe('Expires 2027-01-05');
    expect(decisionLabel({ decision: null, newExpiresAt: null }, fmt)).toBe('Undecided');
  });
});

describe('review dates', () => {
  it('reads date inputs as local whole days and rejects non-dates', () => {
    const start = localDayStart('2026-03-31')!;
    expect(new Date(start)).toEqual(new Date(2026, 2, 31));
    expect(localDayEnd('2026-03-31')).toBe(new Date(2026, 3, 1).getTime());
    expect(localDayStart('2026-02-30')).toBeNull();
    expect(localDayStart('31.03.2026')).toBeNull();
    expect(localDayEnd('')).toBeNull();
    expect(toDateInput(new Date(2026, 0, 5, 23, 59).getTime())).toBe('2026-01-05');
  });

  it('turns an expiry date into seconds until the end of that day, refusing days that are over', () => {
    const now = new Date(2026, 11, 2, 12, 0, 0).getTime();
    expect(expiryFromDate('2026-12-02', now)).toEqual({ seconds: 12 * 3600 });
    expect(expiryFromDate('2026-12-03', now)).toEqual({ seconds: 36 * 3600 });
    expect(expiryFromDate('2026-12-01', now)).toEqual({ error: 'That day is over: pick today or a later day.' });
    expect(expiryFromDate('', now)).toEqual({ error: 'Pick the day the access should end.' });
  });

  it('builds the reviews.start input for a whole-day period and a scope, or says what is missing', () => {
    const ok = startReviewInput({ name: ' Q4 ', from: '2026-10-01', to: '2026-12-31', scope: 'agentTag', value: ' ai ' });
    expect(ok).toEqual({
      input: { name: 'Q4', periodStart: new Date(2026, 9, 1).toISOString(), periodEnd: new Date(2027, 0, 1).toISOString(), agentTag: 'ai' },
    });
    expect(startReviewInput({ name: 'x', from: '2026-10-01', to: '2026-10-01', scope: 'all', value: 'ignored' })).toEqual({
      input: { name: 'x', periodStart: new Date(2026, 9, 1).toISOString(), periodEnd: new Date(2026, 9, 2).toISOString() },
    });
    expect(startReviewInput({ name: '', from: '2026-10-05', to: '2026-10-01', scope: 'agent', value: '' })).toEqual({
      errors: { name: 'Name the review, e.g. "Q4 production access".', to: 'The period must end on or after its first day.', value: 'Choose the agent.' },
    });
    expect(startReviewInput({ name: 'x', from: '', to: 'nope', scope: 'connectionTag', value: '' })).toEqual({
      errors: { from: 'Pick the first day of the period.', to: 'Pick the last day of the period.', value: 'Type the tag.' },
    });
  });
});

describe('review routes', () => {
  it('deep-links a review page', () => {
    expect(parseRoute('#/reviews/3f2a-11')).toEqual({ screen: 'reviews', id: '3f2a-11' });
    expect(routeHash({ screen: 'reviews', id: 'a/b' })).toBe('#/reviews/a%2Fb');
    expect(parseRoute('#/reviews')).toEqual({ screen: 'reviews' });
  });
});
