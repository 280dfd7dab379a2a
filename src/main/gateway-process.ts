// The gateway in an Electron utility process: plain src/gateway behind the parent port. It knows nothing
// of windows; the main process validates calls before they get here and relays events to the window.
import { ContractError } from '../shared/contract';
import { startGatehouse, type Gatehouse } from '../gateway/gatehouse';
import type { FromGateway, GatewayInit, ToGateway } from './gateway-protocol';

const port = process.parentPort;
const send = (m: FromGateway) => port.postMessage(m);
let gatehouse: Gatehouse | null = null;

port.on('message', ({ data }: { data: ToGateway }) => void handle(data));

async function handle(msg: ToGateway): Promise<void> {
  if (msg.type === 'init') return init(msg);
  if (msg.type === 'call') {
    if (!gatehouse) return send({ type: 'result', id: msg.id, ok: false, error: { code: 'unavailable', message: 'the gateway is starting' } });
    try {
      send({ type: 'result', id: msg.id, ok: true, value: await gatehouse.api.call(msg.command, msg.input, { actor: 'desktop' }) });
    } catch (err) {
      // The API only throws safe ContractErrors; anything else is reported without its details.
      const e = err instanceof ContractError ? err : new ContractError('internal', 'internal error');
      send({ type: 'result', id: msg.id, ok: false, error: e.toBody() });
    }
    return;
  }
  await gatehouse?.close();
  gatehouse = null;
  send({ type: 'stopped' });
}

async function init(msg: GatewayInit): Promise<void> {
  try {
    const key = Buffer.from(msg.keyHex, 'hex');
    if (key.length !== 32) throw new Error('the master key from the app is not 32 bytes');
    gatehouse = await startGatehouse({
      dataDir: msg.dataDir,
      keyProvider: { getKey: () => key },
      pgPort: msg.pgPort,
      consolePort: null,
      staticDir: null,
      sqliteBinding: msg.sqliteBinding,
    });
    gatehouse.events.onAny((event, payload) => send({ type: 'event', event, payload }));
    send({ type: 'ready', pgPort: gatehouse.info().listeners.postgres?.port ?? msg.pgPort });
  } catch (err) {
    send({ type: 'failed', message: (err as Error).message });
  }
}
