import type { SessionDto } from '../../../../shared/contract';
import { mergeSession } from './session-merge';

/**
 * State of the live sessions list: a page loaded with sessions.list, then kept current by session events.
 * Events that arrive while a page is loading are applied again on top of it, so a session that starts
 * between the server's snapshot and its answer is not lost.
 */
export interface SessionsState {
  items: SessionDto[];
  total: number;
  status: 'loading' | 'ready' | 'error';
  error: string | null;
  /** Events seen since the current load started (replayed onto its result). */
  pending: SessionDto[] | null;
}

export type SessionsAction =
  | { type: 'load' }
  | { type: 'loaded'; items: SessionDto[]; total: number }
  | { type: 'failed'; error: string }
  | { type: 'event'; session: SessionDto }
  | { type: 'older'; items: SessionDto[] };

export const initialSessions: SessionsState = { items: [], total: 0, status: 'loading', error: null, pending: [] };

const newestFirst = (a: SessionDto, b: SessionDto) => Date.parse(b.startedAt) - Date.parse(a.startedAt);

function apply(items: SessionDto[], total: number, s: SessionDto): { items: SessionDto[]; total: number } {
  const i = items.findIndex((x) => x.id === s.id);
  if (i >= 0) {
    const next = items.slice();
    next[i] = mergeSession(items[i], s);
    return { items: next, total };
  }
  // Not listed: new since the snapshot unless it is older than everything loaded (then it belongs to a
  // page not loaded yet, which will show it when loaded).
  const oldest = items[items.length - 1];
  if (oldest && items.length < total && newestFirst(oldest, s) < 0) return { items, total };
  return { items: [...items, s].sort(newestFirst), total: total + 1 };
}

/** The reducer of the sessions screen (pure; see SessionsState). */
export function sessionsReducer(state: SessionsState, action: SessionsAction): SessionsState {
  switch (action.type) {
    case 'load':
      return { ...state, status: state.status === 'ready' ? 'ready' : 'loading', pending: [] };
    case 'loaded': {
      let list = { items: action.items.slice().sort(newestFirst), total: action.total };
      for (const s of state.pending ?? []) list = apply(list.items, list.total, s);
      return { ...list, status: 'ready', error: null, pending: null };
    }
    case 'failed':
      return { ...state, status: 'error', error: action.error, pending: null };
    case 'event': {
      const list = apply(state.items, state.total, action.session);
      return { ...state, ...list, pending: state.pending ? [...state.pending, action.session] : null };
    }
    case 'older': {
      const known = new Set(state.items.map((s) => s.id));
      return { ...state, items: [...state.items, ...action.items.filter((s) => !known.has(s.id))] };
    }
  }
}
