import WebSocket from 'ws';
import { ContractError, type CommandName, type ContractClient, type ContractErrorBody, type EventName } from '../../shared/contract';

/**
 * A contract client over the console server's HTTP + WebSocket transport (Node side: CLI, tests).
 * The renderer has its own browser implementation of the same protocol.
 */
export function httpClient(baseUrl: string, token: string): ContractClient {
  const listeners = new Map<EventName, Set<(p: unknown) => void>>();
  let socket: WebSocket | null = null;

  const connect = () => {
    if (socket) return;
    socket = new WebSocket(baseUrl.replace(/^http/, 'ws') + '/api/events');
    socket.on('open', () => socket!.send(JSON.stringify({ type: 'auth', token })));
    socket.on('message', (data) => {
      const msg = JSON.parse(String(data)) as { event: EventName; payload: unknown };
      for (const l of listeners.get(msg.event) ?? []) l(msg.payload);
    });
    socket.on('error', () => {});
  };

  return {
    async call(command: CommandName, input: unknown) {
      const res = await fetch(`${baseUrl}/api/call/${command}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify(input ?? {}),
      });
      const body = await res.json().catch(() => null);
      if (!res.ok) {
        const b = body as ContractErrorBody | null;
        throw b?.code ? ContractError.fromBody(b) : new ContractError('internal', `server answered ${res.status}`);
      }
      return body as never;
    },
    on(event: EventName, listener: (p: never) => void) {
      connect();
      let set = listeners.get(event);
      if (!set) listeners.set(event, (set = new Set()));
      set.add(listener as (p: unknown) => void);
      return () => set!.delete(listener as (p: unknown) => void);
    },
    close() {
      socket?.close();
      socket = null;
      listeners.clear();
    },
  };
}
