import { utilityProcess, type UtilityProcess } from 'electron';
import type { IpcResult } from '../shared/ipc';
import type { FromGateway, ToGateway } from './gateway-protocol';

/** Runs the gateway in a utility process and relays contract calls and events to and from it. */
export class GatewayHost {
  private child: UtilityProcess | null = null;
  private nextId = 1;
  private readonly pending = new Map<number, (r: IpcResult) => void>();

  constructor(
    private readonly entry: string,
    private readonly onEvent: (event: string, payload: unknown) => void,
  ) {}

  /** Start the gateway; resolves with its PostgreSQL port. */
  start(init: Extract<ToGateway, { type: 'init' }>): Promise<number> {
    const child = utilityProcess.fork(this.entry, [], { serviceName: 'Gatehouse gateway' });
    this.child = child;
    return new Promise((resolve, reject) => {
      child.on('message', (msg: FromGateway) => {
        if (msg.type === 'ready') resolve(msg.pgPort);
        else if (msg.type === 'failed') reject(new Error(msg.message));
        else if (msg.type === 'result') {
          const done = this.pending.get(msg.id);
          this.pending.delete(msg.id);
          done?.(msg.ok ? { ok: true, value: msg.value } : { ok: false, error: msg.error });
        } else if (msg.type === 'event') this.onEvent(msg.event, msg.payload);
      });
      child.on('exit', (code) => {
        for (const done of this.pending.values()) done({ ok: false, error: { code: 'unavailable', message: `the gateway stopped (exit ${code})` } });
        this.pending.clear();
        reject(new Error(`the gateway process exited with ${code}`));
      });
      child.postMessage(init);
    });
  }

  /** Forward one (already validated) contract call. */
  call(command: string, input: unknown): Promise<IpcResult> {
    if (!this.child) return Promise.resolve({ ok: false, error: { code: 'unavailable', message: 'the gateway is not running' } });
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.pending.set(id, resolve);
      this.child!.postMessage({ type: 'call', id, command, input } satisfies ToGateway);
    });
  }

  /** Ask the gateway to close sessions and flush recordings, then end the process. */
  async stop(): Promise<void> {
    const child = this.child;
    if (!child) return;
    this.child = null;
    await new Promise<void>((resolve) => {
      const t = setTimeout(() => {
        child.kill();
        resolve();
      }, 5000);
      child.on('message', (m: FromGateway) => {
        if (m.type === 'stopped') {
          clearTimeout(t);
          child.kill();
          resolve();
        }
      });
      child.postMessage({ type: 'stop' } satisfies ToGateway);
    });
  }
}
