import type { Duplex } from 'node:stream';
import type { BaseAgent, Connection, ServerChannel } from 'ssh2';
import { ssh2BaseAgent } from './ssh2-runtime';

/** The window and packet size ssh2 gives channels it opens itself (lib/Channel.js MAX_WINDOW, PACKET_SIZE). */
const CHANNEL_WINDOW = 2 * 1024 * 1024;
const CHANNEL_PACKET = 32 * 1024;

/** The parts of ssh2's server-side connection that its own forwardOut()/x11() use to open a channel. */
interface Ssh2ConnectionInternals {
  _chanMgr?: { add(pending: unknown): number };
  _protocol?: { openssh_authAgent?(channel: number, window: number, packetSize: number): void };
}

/**
 * Ask the agent's SSH client to open an `auth-agent@openssh.com` channel to its ssh-agent (what an
 * OpenSSH client started with `-A` accepts). ssh2's server Connection has public calls for the other
 * server-opened channel types (forwardOut, x11, openssh_forwardOutStreamLocal) but not this one, although
 * its protocol layer writes the message (openssh_authAgent) and its channel manager completes any channel
 * registered this way on CHANNEL_OPEN_CONFIRMATION / FAILURE. This does what Connection.forwardOut does,
 * for this type; if a future ssh2 lacks those internals it fails (agent forwarding refused), never throws.
 */
export function openAgentChannel(conn: Connection, cb: (err: Error | undefined, channel?: ServerChannel) => void): void {
  const internals = conn as unknown as Ssh2ConnectionInternals;
  const open = internals._protocol?.openssh_authAgent;
  if (typeof internals._chanMgr?.add !== 'function' || typeof open !== 'function') {
    cb(new Error('this ssh2 version cannot open agent channels'));
    return;
  }
  const pending = Object.assign((err: Error | undefined, channel?: ServerChannel) => cb(err, channel), { type: 'auth-agent@openssh.com' });
  const id = internals._chanMgr.add(pending);
  if (id === -1) {
    cb(new Error('no free channel on the agent connection'));
    return;
  }
  open.call(internals._protocol, id, CHANNEL_WINDOW, CHANNEL_PACKET);
}

/**
 * The "agent" given to the upstream ssh2 client: it holds no keys (so ssh2 never logs in with it) and each
 * agent channel the upstream host opens gets the stream `open` returns, which is a channel back to the
 * agent's own ssh-agent (or an error: the upstream's channel is then refused).
 */
export function bridgeAgent(open: (cb: (err: Error | null, stream?: Duplex) => void) => void): BaseAgent {
  const Base = ssh2BaseAgent();
  class GatewayBridgeAgent extends Base {
    getIdentities(cb: (err: Error | null, keys?: never[]) => void): void {
      cb(null, []);
    }
    sign(_key: unknown, _data: Buffer, options: unknown, cb?: (err: Error) => void): void {
      const done = typeof options === 'function' ? (options as (err: Error) => void) : cb;
      done?.(new Error('the gateway does not sign with the agent\'s keys'));
    }
    override getStream(cb: (err: Error | null, stream?: Duplex) => void): void {
      open(cb);
    }
  }
  return new GatewayBridgeAgent();
}
