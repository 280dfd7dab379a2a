import { Duplex, PassThrough } from 'node:stream';
import type { Client, Connection, ServerChannel, TcpConnectionDetails, TcpipRequestInfo, X11Details } from 'ssh2';
import type { Logger } from '../core/logger';
import type { SshForwardingKind } from '../store/ssh-repo';
import { openAgentChannel } from './agent-channel';

/** What the forwarding of one agent connection needs from its SSH session. */
export interface ForwardingHost {
  readonly log: Logger;
  /** The session is authorized, has not been refused and is not closing. */
  active(): boolean;
  /** The forwarding the connection allows, read from the store now (throws if it cannot be read). */
  allowedForwarding(): readonly SshForwardingKind[];
  /** The logged-in upstream connection. */
  upstream(): Promise<Client>;
  /** The upstream connection if it is logged in now (else null). */
  upstreamNow(): Client | null;
  auditEvent(kind: string, detail: Record<string, unknown>): void;
  countBytes(inBytes: number, outBytes: number): void;
}

/**
 * Send EOF on a channel once what was written to it is out. ssh2 closes a server-side channel outright
 * on end(), which would cut off the other direction of a half-closed connection (a client that sends
 * its request and then shuts down its writing side, like `ssh -R` users and X11 clients may).
 */
function eofWhenFlushed(channel: ServerChannel): void {
  // Write callbacks run in order: this one runs once every earlier chunk has been sent.
  channel.write(Buffer.alloc(0), () => channel.eof());
}

/** A session-channel request that turns on forwarding for the agent's side: ssh -A and ssh -X / -Y. */
export type SessionForwardRequest = 'auth-agent' | 'x11';

/** An `ssh -R` listener on the upstream host, as the agent asked for it. */
interface RemoteListener {
  bindAddr: string;
  /** The port the agent asked for (0: the upstream picks one). */
  bindPort: number;
  /** The port bound on the upstream. */
  port: number;
}

const KIND_OF: Record<SessionForwardRequest, SshForwardingKind> = { 'auth-agent': 'agent', x11: 'x11' };

/**
 * All forwarding of one agent connection, each kind refused unless the connection allows it (read at each
 * request; an error reading the allowance refuses): local forwarding (ssh -L / -W: direct-tcpip, via the
 * upstream's forwardOut) and remote forwarding (ssh -R: tcpip-forward bound on the upstream with forwardIn,
 * its forwarded-tcpip channels opened back to the agent) under `tcpip`; agent forwarding (ssh -A:
 * auth-agent@openssh.com channels from the upstream, bridged to the agent's ssh-agent) under `agent`; X11
 * (ssh -X / -Y: x11 channels from the upstream, bridged to the agent's display; the agent's client checks
 * and replaces its own fake cookie) under `x11`. Every forwarded channel is audited when it opens
 * (`ssh.forwarded`) and closes (`ssh.forward_closed`, with bytes); refusals are `ssh.refused`. Closing the
 * session closes every bridged channel and cancels the remote listeners on the upstream.
 */
export class SessionForwarding {
  /** Close functions of the bridged channels that are open. */
  private readonly open = new Set<() => void>();
  /** ssh -R listeners bound on the upstream, by `bindAddr:port` (the bound port). */
  private readonly listeners = new Map<string, RemoteListener>();
  /** Session channels that asked for (and were allowed) agent / X11 forwarding. */
  private agentChannels = 0;
  private x11Channels = 0;
  private closed = false;
  /** The last allowance read failed (the refusal is then audited as settings_unreadable). */
  private unreadable = false;

  constructor(
    private readonly host: ForwardingHost,
    private readonly conn: Connection,
  ) {}

  /** Whether the connection allows `kind` now; false when the allowance cannot be read (fail closed). */
  allows(kind: SshForwardingKind): boolean {
    try {
      this.unreadable = false;
      return this.host.allowedForwarding().includes(kind);
    } catch (err) {
      this.unreadable = true;
      this.host.log.error('cannot read the forwarding settings; refusing', { err });
      return false;
    }
  }

  /** The audited reason for a refusal after allows() said no. */
  private notAllowed(): string {
    return this.unreadable ? 'settings_unreadable' : 'forwarding_not_allowed';
  }

  /**
   * auth-agent-req / x11-req on a session channel. True: accepted (the channel asks the upstream for the
   * same); false: refused and audited. Either way it is one audit event.
   */
  sessionRequest(request: SessionForwardRequest, channel: number | null, detail: Record<string, unknown> = {}): boolean {
    const ok = this.host.active() && !this.closed && this.allows(KIND_OF[request]);
    if (!ok) {
      this.host.auditEvent('ssh.refused', { request, ...(channel ? { channel } : {}), ...detail, ...(this.host.active() ? { reason: this.notAllowed() } : {}) });
      return false;
    }
    if (request === 'auth-agent') this.agentChannels++;
    else this.x11Channels++;
    this.host.auditEvent('ssh.forward_accepted', { request, ...(channel ? { channel } : {}), ...detail });
    return true;
  }

  /** A session channel that had agent / X11 forwarding accepted has ended. */
  sessionEnded(agent: boolean, x11: boolean): void {
    if (agent) this.agentChannels = Math.max(0, this.agentChannels - 1);
    if (x11) this.x11Channels = Math.max(0, this.x11Channels - 1);
  }

  /** Listen for what the upstream opens towards the agent (ssh -R connections and X11 clients). */
  watchUpstream(client: Client): void {
    client.on('tcp connection', (info, accept, reject) => this.remoteConnection(info, accept, reject));
    client.on('x11', (info, accept, reject) => this.x11Connection(info, accept, reject));
  }

  /**
   * ssh -L / -W: a direct-tcpip channel, bridged through the upstream host (forwardOut) when the connection
   * allows tcpip forwarding, else refused.
   */
  directTcpip(accept: () => ServerChannel, reject: () => void, info: TcpipRequestInfo): void {
    const destination = `${info.destIP}:${info.destPort}`;
    const allowed = this.host.active() && this.allows('tcpip');
    if (!allowed || this.closed) {
      this.host.auditEvent('ssh.refused', { request: 'direct-tcpip', destination, ...(this.host.active() ? { reason: this.notAllowed() } : {}) });
      return reject();
    }
    const failed = (reason: string, message?: string) => {
      this.host.auditEvent('ssh.forward_failed', { request: 'direct-tcpip', destination, reason, ...(message ? { message } : {}) });
      reject();
    };
    this.host.upstream().then(
      (client) => {
        if (this.closed) return reject();
        try {
          client.forwardOut(info.srcIP || '127.0.0.1', info.srcPort || 0, info.destIP, info.destPort, (err, up) => {
            if (err) return failed('upstream_refused', err.message);
            if (this.closed) {
              up.close();
              return reject();
            }
            this.bridge(accept(), up, { request: 'direct-tcpip', destination, origin: `${info.srcIP}:${info.srcPort}` });
          });
        } catch (err) {
          // ssh2 throws when the upstream connection has just gone.
          failed('upstream_failed', (err as Error).message);
        }
      },
      (err: Error) => failed('upstream_failed', err.message),
    );
  }

  /**
   * A global request: tcpip-forward / cancel-tcpip-forward (ssh -R) are bound / cancelled on the upstream
   * when tcpip forwarding is allowed; anything else (streamlocal forwarding) is refused.
   */
  globalRequest(accept: ((port?: number) => void) | undefined, reject: (() => void) | undefined, name: string, info: unknown): void {
    const bind = info && typeof info === 'object' && 'bindPort' in info ? (info as { bindAddr: string; bindPort: number }) : null;
    const where = bind ? `${bind.bindAddr}:${bind.bindPort}` : undefined;
    if (name === 'cancel-tcpip-forward' && bind) return this.cancelRemote(bind, accept, reject);
    if (name !== 'tcpip-forward' || !bind || !this.host.active() || this.closed || !this.allows('tcpip')) {
      const socketPath = info && typeof info === 'object' && 'socketPath' in info ? (info as { socketPath: string }).socketPath : undefined;
      const notAllowed = name === 'tcpip-forward' && this.host.active();
      this.host.auditEvent('ssh.refused', { request: name, ...(where ? { bind: where } : {}), ...(socketPath ? { socketPath } : {}), ...(notAllowed ? { reason: this.notAllowed() } : {}) });
      return reject?.();
    }
    const failed = (reason: string, message: string) => {
      this.host.auditEvent('ssh.forward_failed', { request: 'tcpip-forward', bind: where, reason, message });
      reject?.();
    };
    this.host.upstream().then(
      (client) => {
        if (this.closed) return reject?.();
        try {
          client.forwardIn(bind.bindAddr, bind.bindPort, (err, port) => {
            if (err) return failed('upstream_refused', err.message);
            const listener = { bindAddr: bind.bindAddr, bindPort: bind.bindPort, port };
            if (this.closed) {
              client.unforwardIn(listener.bindAddr, listener.port, () => {});
              return reject?.();
            }
            this.listeners.set(`${listener.bindAddr}:${port}`, listener);
            this.host.auditEvent('ssh.forward_accepted', { request: 'tcpip-forward', bind: `${bind.bindAddr}:${port}` });
            accept?.(port);
          });
        } catch (err) {
          failed('upstream_failed', (err as Error).message);
        }
      },
      (err: Error) => failed('upstream_failed', err.message),
    );
  }

  /**
   * The stream for one agent channel the upstream opened (ssh-add, ssh on the host): a channel back to the
   * agent's ssh-agent, when a session channel of this connection asked for agent forwarding and the
   * connection still allows it.
   */
  agentStream(cb: (err: Error | null, stream?: Duplex) => void): void {
    if (this.closed || !this.host.active() || this.agentChannels === 0 || !this.allows('agent')) {
      this.host.auditEvent('ssh.refused', { request: 'auth-agent@openssh.com', reason: this.agentChannels === 0 ? 'not_requested' : this.notAllowed() });
      return cb(new Error('agent forwarding is not allowed'));
    }
    openAgentChannel(this.conn, (err, down) => {
      if (err || !down) {
        this.host.auditEvent('ssh.forward_failed', { request: 'auth-agent@openssh.com', reason: 'client_refused', message: err?.message ?? 'no channel' });
        return cb(err ?? new Error('no channel'));
      }
      if (this.closed) {
        down.close();
        return cb(new Error('the session has ended'));
      }
      // ssh2 pipes the upstream's agent channel into what it gets here; a pair of pass-throughs lets the
      // bridge see (and count) both directions.
      const toAgent = new PassThrough();
      const fromAgent = new PassThrough();
      const side = Duplex.from({ readable: fromAgent, writable: toAgent });
      this.bridge(down, side, { request: 'auth-agent@openssh.com' }, { toAgent, fromAgent });
      cb(null, side);
    });
  }

  /** End every bridged channel and cancel the remote listeners on the upstream (the session is ending). */
  closeAll(): void {
    if (this.closed) return;
    this.closed = true;
    for (const close of [...this.open]) close();
    if (this.listeners.size) {
      const listeners = [...this.listeners.values()];
      this.listeners.clear();
      // Sent now, before the session ends the upstream connection (which would drop them anyway).
      const client = this.host.upstreamNow();
      for (const l of listeners) {
        try {
          client?.unforwardIn(l.bindAddr, l.port, () => {});
        } catch {
          // The upstream connection is gone already, and its listeners with it.
        }
      }
      for (const l of listeners) this.host.auditEvent('ssh.forward_cancelled', { request: 'tcpip-forward', bind: `${l.bindAddr}:${l.port}`, reason: 'session_ended' });
    }
  }

  private cancelRemote(bind: { bindAddr: string; bindPort: number }, accept: (() => void) | undefined, reject: (() => void) | undefined): void {
    // Cancelled by the bound port, or (a client that asked for port 0) by 0 when that is unambiguous.
    const dynamic = bind.bindPort === 0 ? [...this.listeners.values()].filter((l) => l.bindAddr === bind.bindAddr && l.bindPort === 0) : [];
    const listener = dynamic.length === 1 ? dynamic[0] : this.listeners.get(`${bind.bindAddr}:${bind.bindPort}`);
    if (!listener || this.closed) return reject?.();
    const key = `${listener.bindAddr}:${listener.port}`;
    this.listeners.delete(key);
    const done = (err?: Error | null) => {
      this.host.auditEvent('ssh.forward_cancelled', { request: 'tcpip-forward', bind: key, reason: 'cancelled', ...(err ? { message: err.message } : {}) });
      if (err) reject?.();
      else accept?.();
    };
    this.host.upstream().then(
      (client) => {
        try {
          client.unforwardIn(listener.bindAddr, listener.port, done);
        } catch (err) {
          done(err as Error);
        }
      },
      () => reject?.(),
    );
  }

  /** ssh -R: a connection arrived at a listener on the upstream; open it back to the agent. */
  private remoteConnection(info: TcpConnectionDetails, accept: () => Duplex & { close(): void }, reject: () => void): void {
    const key = `${info.destIP}:${info.destPort}`;
    const listener = this.listeners.get(key);
    const origin = `${info.srcIP}:${info.srcPort}`;
    if (!listener || this.closed || !this.host.active() || !this.allows('tcpip')) {
      this.host.auditEvent('ssh.refused', { request: 'forwarded-tcpip', bind: key, origin, reason: listener ? this.notAllowed() : 'not_requested' });
      return reject();
    }
    // The agent's client matches the channel by the address and port it asked to bind (the bound one for 0).
    this.conn.forwardOut(listener.bindAddr, listener.port, info.srcIP, info.srcPort, (err, down) => {
      if (err) {
        this.host.auditEvent('ssh.forward_failed', { request: 'forwarded-tcpip', bind: key, origin, reason: 'client_refused', message: err.message });
        return reject();
      }
      if (this.closed) {
        down.close();
        return reject();
      }
      this.bridge(down, accept(), { request: 'forwarded-tcpip', bind: key, origin });
    });
  }

  /** ssh -X: an X11 client on the upstream connected to the forwarded display; open it back to the agent. */
  private x11Connection(info: X11Details, accept: () => Duplex & { close(): void }, reject: () => void): void {
    const origin = `${info.srcIP}:${info.srcPort}`;
    if (this.closed || !this.host.active() || this.x11Channels === 0 || !this.allows('x11')) {
      this.host.auditEvent('ssh.refused', { request: 'x11', origin, reason: this.x11Channels === 0 ? 'not_requested' : this.notAllowed() });
      return reject();
    }
    this.conn.x11(info.srcIP, info.srcPort, (err, down) => {
      if (err) {
        this.host.auditEvent('ssh.forward_failed', { request: 'x11', origin, reason: 'client_refused', message: err.message });
        return reject();
      }
      if (this.closed) {
        down.close();
        return reject();
      }
      this.bridge(down, accept(), { request: 'x11', origin });
    });
  }

  /**
   * Relay one forwarded channel both ways: `down` is the agent's side, `up` the upstream's. Audited when it
   * opens and when it closes (bytesIn: from the agent, bytesOut: to the agent).
   */
  private bridge(
    down: ServerChannel,
    up: Duplex & { close?(): void },
    detail: Record<string, unknown>,
    agentPipes?: { toAgent: PassThrough; fromAgent: PassThrough },
  ): void {
    const started = Date.now();
    let bytesIn = 0;
    let bytesOut = 0;
    let done = false;
    const close = () => {
      if (done) return;
      done = true;
      this.open.delete(close);
      if (up.close) up.close();
      else up.destroy();
      agentPipes?.toAgent.destroy();
      agentPipes?.fromAgent.destroy();
      down.close();
      this.host.countBytes(bytesIn, bytesOut);
      this.host.auditEvent('ssh.forward_closed', { ...detail, bytesIn, bytesOut, durationMs: Date.now() - started });
    };
    this.open.add(close);
    this.host.auditEvent('ssh.forwarded', detail);
    up.on('error', () => {});
    down.on('error', () => {});
    down.on('data', (d: Buffer) => (bytesIn += d.length));
    down.on('close', close);
    up.on('close', close);
    // ssh2 writes the upstream's bytes into toAgent and reads the agent's from fromAgent.
    const toDown = agentPipes ? agentPipes.toAgent : up;
    toDown.on('data', (d: Buffer) => (bytesOut += d.length));
    down.pipe(agentPipes ? agentPipes.fromAgent : up);
    toDown.pipe(down, { end: false });
    toDown.once('end', () => eofWhenFlushed(down));
  }
}
