import { ContractError, type CommandName, type ContractClient, type ContractErrorBody, type EventName } from './contract';

/** The parts of the WebSocket API the client uses: browsers' WebSocket and Node's `ws` both fit. */
export interface WebSocketLike {
  send(data: string): void;
  close(): void;
  onopen: ((ev: any) => void) | null;
  onmessage: ((ev: any) => void) | null;
  onclose: ((ev: any) => void) | null;
  onerror: ((ev: any) => void) | null;
}

export interface HttpContractClientOptions {
  baseUrl: string;
  token: string;
  createWebSocket: (url: string) => WebSocketLike;
  /** Called when the server rejects the token (HTTP 401 or WebSocket close 4401). */
  onAuthFailed?: () => void;
}

/**
 * The contract over the console server's transport: `POST /api/call/<command>` with a bearer token, and
 * events on a WebSocket at `/api/events` whose first message authenticates. The WebSocket reconnects with
 * backoff; `onResync` listeners run each time it is (re)connected. Used by the browser console and the CLI.
 */
export function httpContractClient(opts: HttpContractClientOptions): ContractClient {
  const listeners = new Map<EventName, Set<(p: unknown) => void>>();
  const resync = new Set<() => void>();
  let ws: WebSocketLike | null = null;
  let closed = false;
  let retry = 500;

  const connect = () => {
    if (closed || ws) return;
    const socket = opts.createWebSocket(opts.baseUrl.replace(/^http/, 'ws') + '/api/events');
    ws = socket;
    socket.onopen = () => socket.send(JSON.stringify({ type: 'auth', token: opts.token }));
    socket.onmessage = (m: { data: unknown }) => {
      const msg = JSON.parse(String(m.data)) as { type?: string; event?: EventName; payload?: unknown };
      if (msg.type === 'ready') {
        retry = 500;
        for (const l of resync) l();
      }
      if (msg.event) for (const l of listeners.get(msg.event) ?? []) l(msg.payload);
    };
    socket.onerror = () => {};
    socket.onclose = (e: { code: number }) => {
      ws = null;
      if (e.code === 4401) return opts.onAuthFailed?.();
      if (!closed) setTimeout(connect, (retry = Math.min(retry * 2, 10_000)));
    };
  };

  return {
    async call(command: CommandName, input: unknown) {
      const res = await fetch(`${opts.baseUrl}/api/call/${command}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${opts.token}` },
        body: JSON.stringify(input ?? {}),
      });
      const body = await res.json().catch(() => null);
      if (res.status === 401) opts.onAuthFailed?.();
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
      ws = null;
    },
  };
}
