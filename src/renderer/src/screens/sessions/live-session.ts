import type { SessionDto, StatementDto } from '../../../../shared/contract';
import { mergeSession } from './session-merge';

/**
 * State of one open session's page: loaded with sessions.get, then kept current by session and statement
 * events for that session (replayed onto the loaded data when they arrive during the load).
 */
export interface SessionState {
  session: SessionDto | null;
  statements: StatementDto[];
  status: 'loading' | 'ready' | 'error';
  error: string | null;
  pending: SessionEvent[] | null;
  /** More statements are being fetched page by page (huge sessions): the list is not complete yet. */
  loadingMore: boolean;
}

type SessionEvent = { kind: 'session'; session: SessionDto } | { kind: 'statement'; statement: StatementDto };

export type SessionAction =
  | { type: 'load' }
  | { type: 'loaded'; session: SessionDto; statements: StatementDto[]; more?: boolean }
  /** The next page of statements (in seq order, after the last loaded one); `more` = pages remain. */
  | { type: 'page'; statements: StatementDto[]; more: boolean }
  | { type: 'failed'; error: string }
  | ({ type: 'event' } & SessionEvent);

export const initialSession: SessionState = { session: null, statements: [], status: 'loading', error: null, pending: [], loadingMore: false };

function apply(state: SessionState, e: SessionEvent): SessionState {
  if (e.kind === 'session') return state.session ? { ...state, session: mergeSession(state.session, e.session) } : state;
  if (state.statements.some((s) => s.id === e.statement.id)) return state;
  return { ...state, statements: [...state.statements, e.statement].sort((a, b) => a.seq - b.seq) };
}

/** The reducer of the session page (pure). Callers pass only events that concern this session. */
export function sessionReducer(state: SessionState, action: SessionAction): SessionState {
  switch (action.type) {
    case 'load':
      return { ...state, pending: [] };
    case 'loaded': {
      let next: SessionState = { session: action.session, statements: action.statements, status: 'ready', error: null, pending: null, loadingMore: action.more ?? false };
      for (const e of state.pending ?? []) next = apply(next, e);
      return next;
    }
    case 'page': {
      // Live events may already have added statements past this page: keep one copy of each, in order.
      const have = new Set(state.statements.map((st) => st.id));
      const fresh = action.statements.filter((st) => !have.has(st.id));
      const last = state.statements[state.statements.length - 1];
      const inOrder = !last || fresh.length === 0 || fresh[0].seq > last.seq;
      const statements = inOrder ? [...state.statements, ...fresh] : [...state.statements, ...fresh].sort((a, b) => a.seq - b.seq);
      return { ...state, statements, loadingMore: action.more };
    }
    case 'failed':
      return { ...state, status: 'error', error: action.error, pending: null, loadingMore: false };
    case 'event': {
      const { type: _type, ...e } = action;
      const next = apply(state, e);
      return { ...next, pending: state.pending ? [...state.pending, e] : null };
    }
  }
}
