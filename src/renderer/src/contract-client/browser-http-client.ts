import { ContractError, type CommandName, type ContractClient, type ContractErrorBody, type EventName } from '../../../shared/contract';

/**
 * The contract over HTTP + WebSocket against `gatehouse serve`, from a browser. The WebSocket
 * reconnects with backoff; the first message on it authenticates with the admin token.
 */
export function browserHttpClient(baseUrl: string, token: string, onAuthFailed: () => void): ContractClient {
  const listeners = new Map<EventName, Set<(p: unknown) => void>>();
  const resync = new Set<() => void>();
  let ws: WebSocket | null = null;
  let closed = false;
  let retry = 500;

  const connect = () => {
    if (closed || ws) return;
    const socket = new WebSocket(baseUrl.replace(/^http/, 'ws') + '/api/events');
    ws = socket;
    socket.onopen = () => socket.send(JSON.stringify({ type: 'auth', token }));
    socket.onmessage = (m) => {
      const msg = JSON.parse(String(m.data)) as { type?: string; event?: EventName; payload?: unknown };
      if (msg.type === 'ready') {
        retry = 500;
        for (const l of resync) l();
      }
      if (msg.event) for (const l of listeners.get(msg.event) ?? []) l(msg.payload);
    };
    socket.onclose = (e) => {
      ws = null;
      if (e.code === 4401) return onAuthFailed();
      if (!closed) setTimeout(connect, (retry = Math.min(retry * 2, 10_000)));
    };
  };

  return {
    async call(command: CommandName, input: unknown) {
      const res = await fetch(`${baseUrl}/api/call/${command}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify(input ?? {}),
      });
      const body = await res.json().catch(() => null);
      if (res.status === 401) onAuthFailed();
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
    onResync(listener: () => void) {
      connect();
      resync.add(listener);
      return () => resync.delete(listener);
    },
    close() {
      closed = true;
      ws?.close();
    },
  };
}
