import { createContext, useContext, useEffect, useRef } from 'react';
import type { ContractClient, EventName, EventPayload } from '../../../shared/contract';

/** The contract client of this window (IPC in the desktop app, HTTP in a browser), set once by the root. */
export const ClientContext = createContext<ContractClient | null>(null);

/** The window's contract client; screens use nothing else to reach the gateway. */
export function useClient(): ContractClient {
  const c = useContext(ClientContext);
  if (!c) throw new Error('useClient outside <ClientContext.Provider>');
  return c;
}

/**
 * Subscribe to a contract event while the component is mounted. The listener may change on every render
 * without resubscribing.
 */
export function useEvent<E extends EventName>(event: E, listener: (payload: EventPayload<E>) => void): void {
  const client = useClient();
  const latest = useRef(listener);
  latest.current = listener;
  useEffect(() => client.on(event, (p) => latest.current(p)), [client, event]);
}

/** Run `reload` whenever the transport's event stream (re)connects, so a live view misses nothing. */
export function useResync(reload: () => void): void {
  const client = useClient();
  const latest = useRef(reload);
  latest.current = reload;
  useEffect(() => client.onResync?.(() => latest.current()), [client]);
}
