/** The IPC channel names the preload may use. Nothing else crosses the bridge. */
export const IpcChannel = {
  call: 'gatehouse:call',
  event: 'gatehouse:event',
} as const;

/** What `ipcRenderer.invoke(IpcChannel.call, ...)` resolves to: errors travel as data, not as throws. */
export type IpcResult = { ok: true; value: unknown } | { ok: false; error: { code: string; message: string; issues?: { path: string; message: string }[] } };

/** The API the preload exposes on `window.gatehouse`. */
export interface GatehouseBridge {
  call(command: string, input: unknown): Promise<IpcResult>;
  on(listener: (event: string, payload: unknown) => void): () => void;
}
