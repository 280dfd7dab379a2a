import type { CommandName, ContractClient, EventName } from '../../shared/contract';
import type { EventBus } from '../core/event-bus';
import type { GatewayApi } from './gateway-api';

/** An in-process contract client: the CLI when no server runs, tests, and the desktop app's worker. */
export function localClient(api: GatewayApi, events: EventBus, actor: string): ContractClient {
  const subs = new Set<{ dispose(): void }>();
  return {
    call: (command: CommandName, input: unknown) => api.call(command, input, { actor }) as never,
    on(event: EventName, listener: (payload: never) => void) {
      const d = events.on(event, listener as never);
      subs.add(d);
      return () => {
        d.dispose();
        subs.delete(d);
      };
    },
    close() {
      for (const d of subs) d.dispose();
      subs.clear();
    },
  };
}
