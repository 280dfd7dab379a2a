import { describe, expect, it } from 'vitest';
import type { SessionDto, StatementDto } from '../../src/shared/contract';
import { initialSession, sessionReducer } from '../../src/renderer/src/screens/sessions/live-session';
import { initialSessions, sessionsReducer, type SessionsAction, type SessionsState } from '../../src/renderer/src/screens/sessions/live-sessions';
import { HOME, parseRoute, routeHash } from '../../src/renderer/src/routes';

// The console's live views: a snapshot from the contract plus events, in any interleaving.

const at = (minute: number) => new Date(Date.UTC(2026, 0, 1, 12, minute)).toISOString();
const session = (id: string, minute: number, over: Partial<SessionDto> = {}): SessionDto => ({
  id,
  protocol: 'postgres',
  agentName: 'bot',
  connectionName: 'shop',
  clientAddress: '127.0.0.1',
  tls: false,
  startedAt: at(minute),
  endedAt: null,
  bytesIn: 0,
  bytesOut: 0,
  endReason: null,
  statementCount: 0,
  ...over,
});
const run = (actions: SessionsAction[], from: SessionsState = initialSessions) => actions.reduce(sessionsReducer, from);
const ids = (s: SessionsState) => s.items.map((x) => x.id);

describe('sessions list', () => {
  it('shows the loaded page newest first', () => {
    const s = run([{ type: 'load' }, { type: 'loaded', items: [session('a', 1), session('b', 2)], total: 2 }]);
    expect(ids(s)).toEqual(['b', 'a']);
    expect(s.status).toBe('ready');
  });

  it('adds a started session on top and counts it', () => {
    const s = run([{ type: 'load' }, { type: 'loaded', items: [session('a', 1)], total: 1 }, { type: 'event', session: session('b', 2) }]);
    expect(ids(s)).toEqual(['b', 'a']);
    expect(s.total).toBe(2);
  });

  it('keeps a session that started while the page was loading but is missing from it', () => {
    const s = run([{ type: 'load' }, { type: 'event', session: session('new', 5) }, { type: 'loaded', items: [session('a', 1)], total: 1 }]);
    expect(ids(s)).toEqual(['new', 'a']);
    expect(s.total).toBe(2);
  });

  it('does not count twice a session that is both in the page and in an event', () => {
    const s = run([{ type: 'load' }, { type: 'event', session: session('a', 1) }, { type: 'loaded', items: [session('a', 1)], total: 1 }]);
    expect(ids(s)).toEqual(['a']);
    expect(s.total).toBe(1);
  });

  it('never turns an ended session live again, whatever the order of reports', () => {
    const ended = session('a', 1, { endedAt: at(3), endReason: 'client_terminated', statementCount: 3 });
    const s = run([{ type: 'load' }, { type: 'event', session: session('a', 1, { statementCount: 2 }) }, { type: 'loaded', items: [ended], total: 1 }]);
    expect(s.items[0]).toMatchObject({ endedAt: at(3), endReason: 'client_terminated', statementCount: 3 });
    const later = run([{ type: 'event', session: session('a', 1, { statementCount: 1 }) }], s);
    expect(later.items[0]).toMatchObject({ endedAt: at(3), statementCount: 3 });
  });

  it('updates counters in place from session.updated', () => {
    const s = run([{ type: 'load' }, { type: 'loaded', items: [session('a', 1)], total: 1 }, { type: 'event', session: session('a', 1, { statementCount: 7, bytesIn: 100 }) }]);
    expect(s.items).toHaveLength(1);
    expect(s.items[0]).toMatchObject({ statementCount: 7, bytesIn: 100 });
  });

  it('leaves an update of a session older than the loaded page to that page', () => {
    const s = run([{ type: 'load' }, { type: 'loaded', items: [session('b', 5), session('c', 6)], total: 10 }, { type: 'event', session: session('old', 1, { statementCount: 1 }) }]);
    expect(ids(s)).toEqual(['c', 'b']);
    expect(s.total).toBe(10);
  });

  it('appends older pages without duplicates', () => {
    const s = run([{ type: 'load' }, { type: 'loaded', items: [session('c', 6), session('b', 5)], total: 3 }, { type: 'older', items: [session('b', 5), session('a', 1)] }]);
    expect(ids(s)).toEqual(['c', 'b', 'a']);
  });

  it('reports a failed load', () => {
    const s = run([{ type: 'load' }, { type: 'failed', error: 'the gateway is not running' }]);
    expect(s).toMatchObject({ status: 'error', error: 'the gateway is not running' });
  });
});

describe('one session', () => {
  const stmt = (id: number, seq: number): StatementDto => ({
    id,
    sessionId: 's',
    seq,
    protocol: 'simple',
    sql: `select ${seq}`,
    paramCount: 0,
    startedAt: at(seq),
    durationMs: 1,
    commandTag: 'SELECT 1',
    rows: 1,
    errorCode: null,
    policyAction: null,
    policyRule: null,
    approvalId: null,
    maskedValues: null,
    resultPreview: null,
  });

  it('adds statements recorded during and after the load, once each and in order', () => {
    let s = sessionReducer(initialSession, { type: 'load' });
    s = sessionReducer(s, { type: 'event', kind: 'statement', statement: stmt(3, 3) });
    s = sessionReducer(s, { type: 'loaded', session: session('s', 0), statements: [stmt(1, 1), stmt(2, 2)] });
    s = sessionReducer(s, { type: 'event', kind: 'statement', statement: stmt(3, 3) });
    s = sessionReducer(s, { type: 'event', kind: 'statement', statement: stmt(4, 4) });
    expect(s.statements.map((x) => x.seq)).toEqual([1, 2, 3, 4]);
  });

  it('appends pages of a big session behind the first one, keeping live statements once and in order', () => {
    let s = sessionReducer(initialSession, { type: 'load' });
    s = sessionReducer(s, { type: 'loaded', session: session('s', 0), statements: [stmt(1, 1), stmt(2, 2)], more: true });
    expect(s.loadingMore).toBe(true);
    // A live statement arrives while pages are still loading; the next page overlaps nothing, the last includes it.
    s = sessionReducer(s, { type: 'event', kind: 'statement', statement: stmt(6, 6) });
    s = sessionReducer(s, { type: 'page', statements: [stmt(3, 3), stmt(4, 4)], more: true });
    s = sessionReducer(s, { type: 'page', statements: [stmt(5, 5), stmt(6, 6)], more: false });
    expect(s.statements.map((x) => x.seq)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(s.loadingMore).toBe(false);
  });

  it('shows the end of the session when it ends', () => {
    let s = sessionReducer(initialSession, { type: 'loaded', session: session('s', 0), statements: [] });
    s = sessionReducer(s, { type: 'event', kind: 'session', session: session('s', 0, { endedAt: at(9), endReason: 'client_terminated' }) });
    expect(s.session).toMatchObject({ endedAt: at(9), endReason: 'client_terminated' });
  });
});

describe('routes', () => {
  it('round-trips screens and items through the location hash', () => {
    expect(parseRoute(routeHash({ screen: 'sessions', id: 'a/b c' }))).toEqual({ screen: 'sessions', id: 'a/b c' });
    expect(parseRoute('#/approvals')).toEqual({ screen: 'approvals' });
  });

  it('falls back to the home screen for anything unknown', () => {
    for (const hash of ['', '#', '#/', '#/nope', '#/__proto__', '#/constructor/x']) expect(parseRoute(hash)).toEqual(HOME);
  });
});
