import { utilityProcess, type UtilityProcess } from 'electron';
import type { IpcResult } from '../shared/ipc';
import type { FromGateway, GatewayInit, ToGateway } from './gateway-protocol';

const STOP_GRACE_MS = 5000;

/**
 * Runs the gateway (gateway-process.ts) in an Electron utility process and relays contract calls and
 * events to and from it. One instance for the app's lifetime; `start` again after a crash.
 */
export class GatewayHost {
  private child: UtilityProcess | null = null;
  private nextId = 1;
  private readonly pending = new Map<number, (r: IpcResult) => void>();

  constructor(
    private readonly entry: string,
    private readonly handlers: {
      onEvent: (event: string, payload: unknown) => void;
      /** The process ended without being asked to (a crash): agents cannot connect until it restarts. */
      onCrash: (exitCode: number) => void;
    },
  ) {}

  /** Start the gateway and hand it its configuration and key; resolves with its PostgreSQL port. */
  start(init: GatewayInit): Promise<number> {
    const child = utilityProcess.fork(this.entry, [], { serviceName: 'Gatehouse gateway', stdio: 'inherit' });
    this.child = child;
    let ready = false;
    return new Promise((resolve, reject) => {
      child.on('message', (msg: FromGateway) => {
        if (msg.type === 'ready') {
          ready = true;
          resolve(msg.pgPort);
        } else if (msg.type === 'failed') {
          reject(new Error(msg.message));
          child.kill();
        } else if (msg.type === 'result') {
          const done = this.pending.get(msg.id);
          this.pending.delete(msg.id);
          done?.(msg.ok ? { ok: true, value: msg.value } : { ok: false, error: msg.error });
        } else if (msg.type === 'event') {
          this.handlers.onEvent(msg.event, msg.payload);
        }
      });
      child.once('exit', (code) => {
        const expected = this.child !== child; // stop() clears this.child first
        if (!expected) this.child = null;
        this.failPending(`the gateway stopped (exit ${code})`);
        if (!ready) reject(new Error(`the gateway process exited with code ${code} while starting`));
        else if (!expected) this.handlers.onCrash(code);
      });
      // The key goes over the parent port once the process exists: never in argv or env, which other
      // local processes can read.
      child.once('spawn', () => child.postMessage(init satisfies ToGateway));
    });
  }

  /** Forward one contract call (already validated by the IPC bridge) and wait for its result. */
  call(command: string, input: unknown): Promise<IpcResult> {
    const child = this.child;
    if (!child) return Promise.resolve({ ok: false, error: { code: 'unavailable', message: 'the gateway is not running' } });
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.pending.set(id, resolve);
      child.postMessage({ type: 'call', id, command, input } satisfies ToGateway);
    });
  }

  /** At quit: let the gateway end sessions and flush recordings, then end the process (killed after a grace period). */
  async stop(): Promise<void> {
    const child = this.child;
    if (!child) return;
    this.child = null;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => child.kill(), STOP_GRACE_MS);
      child.on('message', (m: FromGateway) => m.type === 'stopped' && child.kill());
      child.once('exit', () => {
        clearTimeout(timer);
        resolve();
      });
      child.postMessage({ type: 'stop' } satisfies ToGateway);
    });
  }

  private failPending(message: string): void {
    for (const done of this.pending.values()) done({ ok: false, error: { code: 'unavailable', message } });
    this.pending.clear();
  }
}
