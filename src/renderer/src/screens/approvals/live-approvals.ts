import type { ApprovalDto } from '../../../../shared/contract';

/**
 * State of the approvals inbox: the pending requests loaded with approvals.list, then kept current by
 * approval.requested / approval.decided events. Events that arrive while the list loads are replayed on
 * top of it (a request decided between the server's snapshot and its answer must not stay listed).
 * `decided` remembers ids already decided so a late or repeated `requested` never brings one back.
 */
export interface ApprovalsState {
  /** Pending requests, the one expiring first at the top. */
  pending: ApprovalDto[];
  decided: Set<string>;
  status: 'loading' | 'ready' | 'error';
  error: string | null;
  queued: ApprovalDto[] | null;
}

export type ApprovalsAction =
  | { type: 'load' }
  | { type: 'loaded'; items: ApprovalDto[] }
  | { type: 'failed'; error: string }
  | { type: 'event'; approval: ApprovalDto };

export const initialApprovals: ApprovalsState = { pending: [], decided: new Set(), status: 'loading', error: null, queued: [] };

const soonestFirst = (a: ApprovalDto, b: ApprovalDto) => Date.parse(a.expiresAt) - Date.parse(b.expiresAt) || a.id.localeCompare(b.id);

function apply(s: Pick<ApprovalsState, 'pending' | 'decided'>, a: ApprovalDto): Pick<ApprovalsState, 'pending' | 'decided'> {
  if (a.status !== 'pending') {
    const decided = new Set(s.decided).add(a.id);
    return { pending: s.pending.filter((x) => x.id !== a.id), decided };
  }
  if (s.decided.has(a.id) || s.pending.some((x) => x.id === a.id)) return s;
  return { pending: [...s.pending, a].sort(soonestFirst), decided: s.decided };
}

/** The reducer of the approvals inbox (pure; see ApprovalsState). */
export function approvalsReducer(state: ApprovalsState, action: ApprovalsAction): ApprovalsState {
  switch (action.type) {
    case 'load':
      return { ...state, status: state.status === 'ready' ? 'ready' : 'loading', queued: [] };
    case 'loaded': {
      let next = { pending: action.items.filter((a) => a.status === 'pending' && !state.decided.has(a.id)).sort(soonestFirst), decided: state.decided };
      for (const a of state.queued ?? []) next = apply(next, a);
      return { ...next, status: 'ready', error: null, queued: null };
    }
    case 'failed':
      return { ...state, status: 'error', error: action.error, queued: null };
    case 'event': {
      const next = apply(state, action.approval);
      return { ...state, ...next, queued: state.queued ? [...state.queued, action.approval] : null };
    }
  }
}

/**
 * The history list (approvals.list all) with a decided request merged in: replaced where it is listed,
 * otherwise added at the top (newest first).
 */
export function mergeHistory(items: ApprovalDto[], a: ApprovalDto): ApprovalDto[] {
  const i = items.findIndex((x) => x.id === a.id);
  if (i >= 0) {
    const next = items.slice();
    next[i] = a;
    return next;
  }
  return [a, ...items];
}

/**
 * Which request to select after the list changed: the same one if still listed, otherwise the one now at
 * its old position (so deciding the selected request moves on to the next), or null when empty.
 */
export function nextSelection(before: ApprovalDto[], after: ApprovalDto[], selectedId: string | null): string | null {
  if (after.length === 0) return null;
  if (selectedId && after.some((a) => a.id === selectedId)) return selectedId;
  const oldIndex = selectedId ? before.findIndex((a) => a.id === selectedId) : -1;
  return after[Math.min(Math.max(oldIndex, 0), after.length - 1)].id;
}
