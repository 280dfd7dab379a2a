import { describe, expect, it } from 'vitest';
import type { ApprovalDto } from '../../src/shared/contract';
import { ApprovalAlerts } from '../../src/main/approval-alerts';
import { formatCountdown } from '../../src/renderer/src/format';
import { approvalsReducer, initialApprovals, mergeHistory, nextSelection, type ApprovalsAction } from '../../src/renderer/src/screens/approvals/live-approvals';
import { tokenizeSql } from '../../src/renderer/src/sql-highlight';

// The approvals inbox's pure parts: the live list, selection after a decision, the countdown, the SQL
// highlighter, and the desktop alerts' pending count.

const at = (s: number) => new Date(Date.UTC(2026, 0, 1, 12, 0, s)).toISOString();
const approval = (id: string, expiresSecond: number, over: Partial<ApprovalDto> = {}): ApprovalDto => ({
  id,
  sessionId: 's1',
  agentName: 'bot',
  connectionName: 'shop',
  protocol: 'postgres',
  statement: `insert into t values ('${id}')`,
  rule: 'writes',
  message: 'needs approval',
  requestedAt: at(0),
  expiresAt: at(expiresSecond),
  status: 'pending',
  decidedBy: null,
  decidedAt: null,
  reason: null,
  scope: null,
  scopeUntil: null,
  ...over,
});
const decided = (a: ApprovalDto, status: ApprovalDto['status'] = 'approved'): ApprovalDto => ({ ...a, status, decidedBy: 'admin', decidedAt: at(5) });
const run = (actions: ApprovalsAction[]) => actions.reduce(approvalsReducer, initialApprovals);
const ids = (xs: ApprovalDto[]) => xs.map((x) => x.id);

describe('approvals inbox state', () => {
  it('lists pending requests with the one expiring first on top', () => {
    const s = run([{ type: 'load' }, { type: 'loaded', items: [approval('late', 50), approval('soon', 10), decided(approval('old', 5))] }]);
    expect(s.status).toBe('ready');
    expect(ids(s.pending)).toEqual(['soon', 'late']);
  });

  it('adds requests from events and drops them when decided', () => {
    let s = run([{ type: 'load' }, { type: 'loaded', items: [] }]);
    s = approvalsReducer(s, { type: 'event', approval: approval('a', 30) });
    s = approvalsReducer(s, { type: 'event', approval: approval('b', 20) });
    expect(ids(s.pending)).toEqual(['b', 'a']);
    s = approvalsReducer(s, { type: 'event', approval: decided(approval('b', 20), 'denied') });
    expect(ids(s.pending)).toEqual(['a']);
  });

  it('replays events that arrived during the load: a request decided meanwhile is not listed', () => {
    const a = approval('a', 30);
    const s = run([{ type: 'load' }, { type: 'event', approval: a }, { type: 'event', approval: decided(a) }, { type: 'loaded', items: [a] }]);
    expect(s.pending).toEqual([]);
  });

  it('keeps a request requested during the load that the snapshot missed', () => {
    const s = run([{ type: 'load' }, { type: 'event', approval: approval('new', 30) }, { type: 'loaded', items: [approval('old', 40)] }]);
    expect(ids(s.pending)).toEqual(['new', 'old']);
  });

  it('never brings a decided request back from a late or repeated requested event', () => {
    const a = approval('a', 30);
    let s = run([{ type: 'load' }, { type: 'loaded', items: [a] }, { type: 'event', approval: decided(a, 'timed_out') }]);
    s = approvalsReducer(s, { type: 'event', approval: a });
    expect(s.pending).toEqual([]);
    s = approvalsReducer(s, { type: 'event', approval: approval('b', 5) });
    s = approvalsReducer(s, { type: 'event', approval: approval('b', 5) });
    expect(ids(s.pending)).toEqual(['b']);
  });

  it('reports a failed load', () => {
    const s = run([{ type: 'load' }, { type: 'failed', error: 'gateway down' }]);
    expect(s).toMatchObject({ status: 'error', error: 'gateway down' });
  });
});

describe('selection and history', () => {
  const [a, b, c] = [approval('a', 1), approval('b', 2), approval('c', 3)];
  it('moves to the request that took the place of the decided one', () => {
    expect(nextSelection([a, b, c], [a, c], 'b')).toBe('c');
    expect(nextSelection([a, b, c], [a, b], 'c')).toBe('b');
    expect(nextSelection([a, b], [a, b, c], 'b')).toBe('b');
    expect(nextSelection([], [a], null)).toBe('a');
    expect(nextSelection([a], [], 'a')).toBeNull();
  });
  it('merges a decision into the history, newest unknown ones first', () => {
    expect(mergeHistory([a, b], decided(b)).map((x) => x.status)).toEqual(['pending', 'approved']);
    expect(ids(mergeHistory([a], c))).toEqual(['c', 'a']);
  });
});

describe('formatCountdown', () => {
  it('counts down to the second and says when time is up', () => {
    expect(formatCountdown(299_001)).toBe('5:00');
    expect(formatCountdown(299_000)).toBe('4:59');
    expect(formatCountdown(9_000)).toBe('0:09');
    expect(formatCountdown(3_723_000)).toBe('1:02:03');
    expect(formatCountdown(0)).toBe('expired');
    expect(formatCountdown(-5)).toBe('expired');
  });
});

describe('tokenizeSql', () => {
  const kinds = (sql: string) => tokenizeSql(sql).filter((t) => t.kind !== 'other').map((t) => `${t.kind}:${t.text}`);
  it('finds keywords, strings, numbers, comments and identifiers', () => {
    expect(kinds("SELECT name, 42 FROM users WHERE note = 'it''s' -- why\n")).toEqual([
      'keyword:SELECT',
      'identifier:name',
      'number:42',
      'keyword:FROM',
      'identifier:users',
      'keyword:WHERE',
      'identifier:note',
      "string:'it''s'",
      'comment:-- why',
    ]);
  });
  it('handles nested block comments, dollar quotes, E-strings, quoted identifiers and exponents', () => {
    expect(kinds("/* a /* b */ c */ select $fn$ it's $fn$, E'\\'x', \"Select\", 1.5e3")).toEqual([
      'comment:/* a /* b */ c */',
      'keyword:select',
      "string:$fn$ it's $fn$",
      "string:E'\\'x'",
      'identifier:"Select"',
      'number:1.5e3',
    ]);
  });
  it('gives back the input exactly, also when strings and comments are unterminated', () => {
    for (const sql of ["select 'open", 'select /* open', 'select $a$ open', 'x"y', "insert into t values (1, 'a');\n-- end", '', 'ü.ß = 3']) {
      expect(tokenizeSql(sql).map((t) => t.text).join('')).toBe(sql);
    }
  });
});

describe('desktop approval alerts', () => {
  it('notifies once per new request and keeps the tray count', () => {
    const notes: string[] = [];
    const counts: number[] = [];
    const opened: string[] = [];
    const alerts = new ApprovalAlerts({ notify: (n) => (notes.push(n.title), n.onClick()), setPending: (c) => counts.push(c), open: (r) => opened.push(r) });
    const a = approval('a/1', 30);
    alerts.onEvent('approval.requested', a);
    alerts.onEvent('approval.requested', a);
    alerts.onEvent('approval.requested', approval('b', 30));
    alerts.onEvent('session.started', { id: 'x' });
    alerts.onEvent('approval.decided', decided(a));
    alerts.onEvent('approval.decided', decided(a));
    expect(notes).toEqual(['Approval needed: bot on shop', 'Approval needed: bot on shop']);
    expect(counts).toEqual([1, 2, 1]);
    expect(opened).toEqual(['approvals/a%2F1', 'approvals/b']);
  });
});
