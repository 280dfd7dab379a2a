import { createContext, useCallback, useContext, useEffect, useReducer } from 'react';
import type { ApprovalDto } from '../../../shared/contract';
import { useClient, useEvent, useResync } from '../contract-client/client-context';
import { approvalsReducer, initialApprovals, type ApprovalsState } from '../screens/approvals/live-approvals';

export interface LiveApprovals {
  state: ApprovalsState;
  reload: () => void;
}

/**
 * The pending approval requests of the whole console, live from approval events (no polling). The app
 * holds one (sidebar count, notifications) and shares it with the inbox and the overview.
 */
export function useLiveApprovals(onRequested?: (a: ApprovalDto) => void): LiveApprovals {
  const client = useClient();
  const [state, dispatch] = useReducer(approvalsReducer, initialApprovals);
  const reload = useCallback(() => {
    dispatch({ type: 'load' });
    client.call('approvals.list', { status: 'pending', limit: 1000 }).then(
      (items) => dispatch({ type: 'loaded', items }),
      (err: Error) => dispatch({ type: 'failed', error: err.message }),
    );
  }, [client]);
  useEffect(reload, [reload]);
  useResync(reload);
  useEvent('approval.requested', (a) => {
    dispatch({ type: 'event', approval: a });
    onRequested?.(a);
  });
  useEvent('approval.decided', (a) => dispatch({ type: 'event', approval: a }));
  return { state, reload };
}

export const ApprovalsContext = createContext<LiveApprovals | null>(null);

/** The console's live pending approvals (set up by App). */
export function useApprovals(): LiveApprovals {
  const v = useContext(ApprovalsContext);
  if (!v) throw new Error('useApprovals outside <ApprovalsContext.Provider>');
  return v;
}
