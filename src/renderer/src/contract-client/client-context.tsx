import { createContext, useContext, useEffect, useState } from 'react';
import type { CommandInput, CommandName, CommandOutput, ContractClient, EventName, EventPayload } from '../../../shared/contract';

export const ClientContext = createContext<ContractClient | null>(null);

/** The contract client of this window (IPC in the desktop app, HTTP in a browser). */
export function useClient(): ContractClient {
  const c = useContext(ClientContext);
  if (!c) throw new Error('no contract client');
  return c;
}

/** Subscribe to a contract event for the lifetime of the component. */
export function useEvent<E extends EventName>(event: E, listener: (p: EventPayload<E>) => void): void {
  const client = useClient();
  useEffect(() => client.on(event, listener), [client, event, listener]);
}

/** Run a command once (and again when `deps` change); gives data, error and a reload function. */
export function useCommand<C extends CommandName>(command: C, input: CommandInput<C>, deps: unknown[] = []) {
  const client = useClient();
  const [state, setState] = useState<{ data: CommandOutput<C> | null; error: string | null; loading: boolean }>({ data: null, error: null, loading: true });
  const [tick, setTick] = useState(0);
  useEffect(() => {
    let live = true;
    setState((s) => ({ ...s, loading: true }));
    client.call(command, input).then(
      (data) => live && setState({ data, error: null, loading: false }),
      (err: Error) => live && setState({ data: null, error: err.message, loading: false }),
    );
    return () => {
      live = false;
    };
  }, [client, command, tick, ...deps]);
  return { ...state, reload: () => setTick((t) => t + 1) };
}
