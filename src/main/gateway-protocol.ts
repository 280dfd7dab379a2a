/** Messages between the Electron main process and the gateway utility process. */
export type ToGateway =
  | { type: 'init'; dataDir: string; keyHex: string; sqliteBinding?: string }
  | { type: 'call'; id: number; command: string; input: unknown }
  | { type: 'stop' };

export type FromGateway =
  | { type: 'ready'; pgPort: number }
  | { type: 'failed'; message: string }
  | { type: 'result'; id: number; ok: true; value: unknown }
  | { type: 'result'; id: number; ok: false; error: { code: string; message: string; issues?: { path: string; message: string }[] } }
  | { type: 'event'; event: string; payload: unknown }
  | { type: 'stopped' };
