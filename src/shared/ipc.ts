/**
 * The Electron IPC binding of the contract: the only channel names the preload may use, and the shape of
 * `window.gatehouse`. Nothing else crosses the bridge. (Plain data only: the sandboxed preload bundles
 * this file and cannot load packages.)
 */
export const IpcChannel = {
  /** renderer -> main, `invoke(command, input)`: one contract command, answered with an IpcResult. */
  call: 'gatehouse:call',
  /** main -> renderer, `(name, payload)`: a contract event, or one of the AppEvent names below. */
  event: 'gatehouse:event',
} as const;

/**
 * Events the desktop shell itself sends on IpcChannel.event, next to the contract's events. They are not
 * part of the contract (a browser never gets them).
 */
export const AppEvent = {
  /** The app menu asks the console to show a screen; payload `{ route: string }` (e.g. "sessions"). */
  navigate: 'app.navigate',
} as const;
export type AppEventName = (typeof AppEvent)[keyof typeof AppEvent];

/** What `ipcRenderer.invoke(IpcChannel.call, ...)` resolves to: errors travel as data, not as throws. */
export type IpcResult = { ok: true; value: unknown } | { ok: false; error: { code: string; message: string; issues?: { path: string; message: string }[] } };

/** The API the preload exposes on `window.gatehouse`. */
export interface GatehouseBridge {
  /** Run one contract command; the main process validates it before the gateway sees it. */
  call(command: string, input: unknown): Promise<IpcResult>;
  /** Listen to one event (a contract event or an AppEvent); returns the function that unsubscribes. */
  on(event: string, listener: (payload: unknown) => void): () => void;
}
