import { ContractError, type CommandName, type ContractClient, type ErrorCode, type EventName } from '../../../shared/contract';
import type { GatehouseBridge } from '../../../shared/ipc';

/** The contract over Electron IPC, through the preload's `window.gatehouse`. Used inside the desktop app. */
export function ipcClient(bridge: GatehouseBridge): ContractClient {
  return {
    async call(command: CommandName, input: unknown) {
      const r = await bridge.call(command, input);
      if (!r.ok) throw new ContractError(r.error.code as ErrorCode, r.error.message, r.error.issues);
      return r.value as never;
    },
    on(event: EventName, listener: (payload: never) => void) {
      return bridge.on(event, listener as (payload: unknown) => void);
    },
    // The gateway starts before the window and IPC events are never dropped, so there is nothing to resync.
    close() {},
  };
}
