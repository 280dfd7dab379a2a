// The gateway, running in an Electron utility process: plain src/gateway behind a message port. Nothing
// here knows about windows; the main process relays calls and events.
import { ContractError } from '../shared/contract';
import { startGatehouse, type Gatehouse } from '../gateway/gatehouse';
import { bufferKeyProvider } from '../gateway/identity/key-provider';
import type { FromGateway, ToGateway } from './gateway-protocol';

const port = (process as unknown as { parentPort: { on(e: 'message', l: (m: { data: ToGateway }) => void): void; postMessage(m: FromGateway): void } }).parentPort;
let gh: Gatehouse | null = null;

port.on('message', ({ data }) => void handle(data));

async function handle(msg: ToGateway): Promise<void> {
  if (msg.type === 'init') {
    try {
      gh = await startGatehouse({
        dataDir: msg.dataDir,
        keyProvider: bufferKeyProvider(Buffer.from(msg.keyHex, 'hex')),
        consolePort: null,
        staticDir: null,
        sqliteBinding: msg.sqliteBinding,
      });
      gh.events.onAny((event, payload) => port.postMessage({ type: 'event', event, payload }));
      port.postMessage({ type: 'ready', pgPort: gh.info().listeners.postgres!.port });
    } catch (err) {
      port.postMessage({ type: 'failed', message: (err as Error).message });
    }
  } else if (msg.type === 'call') {
    if (!gh) return port.postMessage({ type: 'result', id: msg.id, ok: false, error: { code: 'unavailable', message: 'the gateway is starting' } });
    try {
      port.postMessage({ type: 'result', id: msg.id, ok: true, value: await gh.api.call(msg.command, msg.input, { actor: 'desktop' }) });
    } catch (err) {
      const e = err instanceof ContractError ? err : new ContractError('internal', 'internal error');
      port.postMessage({ type: 'result', id: msg.id, ok: false, error: e.toBody() });
    }
  } else if (msg.type === 'stop') {
    await gh?.close();
    port.postMessage({ type: 'stopped' });
  }
}
