import type { ContractErrorBody } from '../shared/contract';

/**
 * Messages between the Electron main process and the gateway utility process (over the utility process's
 * parent port, never argv or env: the master key travels in `init`).
 */
export type ToGateway =
  | { type: 'init'; dataDir: string; keyHex: string; pgPort: number; sqliteBinding: string }
  | { type: 'call'; id: number; command: string; input: unknown }
  | { type: 'stop' };

export type FromGateway =
  | { type: 'ready'; pgPort: number }
  | { type: 'failed'; message: string }
  | { type: 'result'; id: number; ok: true; value: unknown }
  | { type: 'result'; id: number; ok: false; error: ContractErrorBody }
  | { type: 'event'; event: string; payload: unknown }
  | { type: 'stopped' };

export type GatewayInit = Extract<ToGateway, { type: 'init' }>;
