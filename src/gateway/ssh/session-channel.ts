import path from 'node:path';
import type { Writable } from 'node:stream';
import type { Client, ClientChannel, ExecOptions, PseudoTtyInfo, ServerChannel, Session, X11Info } from 'ssh2';
import type { HeldRequest } from '../approvals/approval-broker';
import type { ApprovalBroker } from '../approvals/approval-broker';
import type { Logger } from '../core/logger';
import type { SshRequest } from '../policy/ssh-policy';
import type { StatementDecision } from '../policy/policy-types';
import type { TerminalMasker } from '../policy/masking/terminal-masker';
import { AsciicastWriter } from '../recording/asciicast-writer';
import type { StoreApi } from '../store/store-api';
import type { SshChannelKind } from '../store/ssh-repo';
import { parseScpCommand, type ScpTransfer } from './scp-command';
import { SftpTap } from './sftp-tap';
import type { SessionForwardRequest } from './ssh-forwarding';

/** Exit status for channels the gateway ends itself (like ssh's own 255 for connection errors). */
export const GATEWAY_EXIT_STATUS = 255;
/** Exit status for a command refused by policy (a shell's "found but cannot execute"). */
export const POLICY_EXIT_STATUS = 126;

/** Output within this time of the agent's last input, in chunks up to ECHO_CHUNK_BYTES, is not held by the masker. */
const ECHO_WINDOW_MS = 50;
const ECHO_CHUNK_BYTES = 64;

/** Environment variables an agent may pass upstream (`SendEnv`); everything else is refused. */
const ALLOWED_ENV = /^(LANG|LC_[A-Z]+|TZ|TERM|COLORTERM)$/;

/** What a channel needs from its SSH session (one client connection). */
export interface ChannelHost {
  readonly sessionId: string;
  readonly dataDir: string;
  readonly store: StoreApi;
  readonly log: Logger;
  /** Record keystrokes ("i" events) as well as output. */
  readonly recordInput: boolean;
  /** Output written to one .cast file at most; beyond it bytes are counted only. */
  readonly maxRecordingBytes: number;
  /** Set when the session may not be used (no grant, unknown connection): every channel gets this message. */
  refusal(): { message: string; reason: string } | null;
  /** The logged-in upstream connection; rejects with a message safe to show the agent. */
  upstream(): Promise<Client>;
  nextChannelId(): number;
  /** Count relayed bytes on the session. */
  countBytes(inBytes: number, outBytes: number): void;
  /** Write an audit event about this session. */
  auditEvent(kind: string, detail: Record<string, unknown>): void;
  channelClosed(ch: SessionChannel): void;
  /** The policy's decision for a shell or command (allow when no policy is configured). */
  decide(req: SshRequest): StatementDecision;
  /** Where `approve` decisions are held; null = no approvals (an approve decision then denies). */
  readonly approvals: ApprovalBroker | null;
  readonly agentName: string;
  readonly connectionName: string;
  /** A masker for one output stream (stdout or stderr) of a shell/exec channel; null when no value rule applies. */
  outputMasker(): TerminalMasker | null;
  /** Idle time after which a masker's held tail is written out (ms). */
  readonly maskFlushMs: number;
  /** A session channel asks for agent (ssh -A) or X11 (ssh -X) forwarding: true = allowed (audited either way). */
  forwardingRequest(request: SessionForwardRequest, channel: number | null, detail?: Record<string, unknown>): boolean;
  /** A channel that had agent / X11 forwarding allowed has ended. */
  forwardingEnded(agent: boolean, x11: boolean): void;
}

type ExitInfo = { code: number } | { signal: string; coreDumped: boolean; description: string };

/**
 * One SSH "session" channel of an agent, bridged to a session channel on the upstream: collects the
 * pre-start requests (pty-req, env), then on shell/exec/subsystem opens the upstream channel with the
 * same requests and relays data both ways with backpressure, stderr kept apart, window changes and
 * signals forwarded, and the upstream's exit-status/exit-signal passed back. Output (and input when
 * asked) is recorded as asciicast v2; sftp and scp channels record file operations instead. A failed
 * recording write ends the channel (fail closed). Shell and exec output (stdout and stderr, each with its
 * own TerminalMasker) goes through the policy's value detectors before it is recorded and sent; sftp and
 * scp carry file contents and are not masked.
 */
export class SessionChannel {
  channelId = 0;
  kind: SshChannelKind | null = null;
  private pty: PseudoTtyInfo | null = null;
  private readonly env: Record<string, string> = {};
  private stream: ServerChannel | null = null;
  private up: ClientChannel | null = null;
  private cast: AsciicastWriter | null = null;
  private sftp: SftpTap | null = null;
  private scp: ScpTransfer | null = null;
  private command: string | null = null;
  private exit: ExitInfo | null = null;
  private bytesIn = 0;
  private bytesOut = 0;
  private finished = false;
  private upstreamDone = false;
  private held: HeldRequest | null = null;
  private readonly maskers: TerminalMasker[] = [];
  /** Idle-flush timers of this channel's maskers, cleared when it finishes. */
  private readonly maskTimers = new Map<() => void, NodeJS.Timeout>();
  /** When the agent last sent data (keystrokes): output right after it is treated as echo. */
  private lastInputAt = 0;
  /** Forwarding this channel asked for and was allowed: requested from the upstream with the channel. */
  private agentForward = false;
  private x11: X11Info | null = null;
  /** Why forwarding the agent asked for is not there, told on stderr when the channel starts. */
  private readonly forwardNotes: string[] = [];

  constructor(
    private readonly host: ChannelHost,
    session: Session,
  ) {
    session.on('pty', (accept, _reject, info) => {
      this.pty = info;
      accept?.();
    });
    session.on('env', (accept, reject, info) => {
      if (ALLOWED_ENV.test(info.key) && Object.keys(this.env).length < 32 && info.val.length <= 1024) {
        this.env[info.key] = info.val;
        accept?.();
      } else reject?.();
    });
    session.on('window-change', (accept, _reject, info) => {
      if (this.pty) Object.assign(this.pty, { cols: info.cols, rows: info.rows, width: info.width, height: info.height });
      this.up?.setWindow(info.rows, info.cols, info.height, info.width);
      this.record(() => this.cast?.resize(info.cols, info.rows));
      accept?.();
    });
    session.on('signal', (accept, reject, info) => {
      try {
        this.up?.signal(info.name.replace(/^SIG/, ''));
        accept?.();
      } catch {
        // ssh2 throws on a signal name it does not know.
        reject?.();
      }
    });
    session.on('x11', (accept, reject, info) => {
      if (!this.stream && this.host.forwardingRequest('x11', null, { screen: info.screen, single: info.single })) {
        this.x11 = info;
        accept?.();
      } else {
        if (this.stream) this.host.auditEvent('ssh.refused', { request: 'x11', channel: this.channelId, reason: 'after_start' });
        this.forwardNotes.push('X11 forwarding is not allowed on this connection');
        reject?.();
      }
    });
    session.on('auth-agent', (accept, reject) => {
      if (!this.stream && this.host.forwardingRequest('auth-agent', null)) {
        this.agentForward = true;
        accept?.();
      } else {
        if (this.stream) this.host.auditEvent('ssh.refused', { request: 'auth-agent', channel: this.channelId, reason: 'after_start' });
        this.forwardNotes.push('agent forwarding is not allowed on this connection');
        reject?.();
      }
    });
    session.on('shell', (accept) => void this.start(accept(), 'shell', null));
    session.on('exec', (accept, _reject, info) => {
      const scp = parseScpCommand(info.command);
      this.scp = scp;
      void this.start(accept(), scp ? 'scp' : 'exec', info.command);
    });
    session.on('subsystem', (accept, reject, info) => {
      if (info.name !== 'sftp') {
        this.host.auditEvent('ssh.refused', { request: 'subsystem', name: info.name });
        reject();
        return;
      }
      void this.start(accept() as ServerChannel, 'sftp', null);
    });
  }

  /** End this channel from the gateway side with a message on stderr (grant revoked, shutdown). */
  terminate(reason: string, message: string): void {
    if (!this.stream || this.finished) return;
    this.up?.close();
    this.failWith(message, reason);
  }

  private async start(stream: ServerChannel, kind: SshChannelKind, command: string | null): Promise<void> {
    this.stream = stream;
    this.kind = kind;
    this.command = command;
    this.channelId = this.host.nextChannelId();
    // Hold what the agent sends until the upstream channel is open (ssh2 drops data for unaccepted channels,
    // so the channel was accepted at once; its window fills and stops the agent meanwhile).
    stream.pause();
    stream.on('error', () => {});
    stream.stderr.on('error', () => {});
    stream.on('close', () => this.clientGone());

    const refusal = this.host.refusal();
    if (refusal) return this.failWith(refusal.message, refusal.reason);
    if (!this.openRecording(kind, command)) return;
    for (const n of this.forwardNotes.splice(0)) this.note(`gatehouse: ${n}\r\n`);
    if (kind !== 'sftp' && !(await this.checkPolicy(kind === 'shell' ? { kind: 'shell' } : { kind: 'exec', command: command! }))) return;
    if (this.finished) return;

    let client: Client;
    try {
      client = await this.host.upstream();
    } catch (err) {
      return this.failWith((err as Error).message, 'upstream_failed');
    }
    if (this.finished) return;
    let up: ClientChannel;
    try {
      up = await this.openUpstreamWithForwarding(client, kind, command);
    } catch (err) {
      this.host.log.warn('upstream refused a channel request', { kind, err: { message: (err as Error).message } });
      return this.failWith(`the upstream refused the ${kind === 'sftp' ? 'sftp subsystem' : kind} request`, 'upstream_refused');
    }
    if (this.finished) {
      up.close();
      return;
    }
    this.relay(stream, up);
  }

  /** Apply the policy to a shell or command: allow, block (exit 126), or hold for a human. True = go ahead. */
  private async checkPolicy(req: SshRequest): Promise<boolean> {
    const what = req.kind === 'shell' ? '(interactive shell)' : req.command;
    let d: StatementDecision;
    try {
      d = this.host.decide(req);
    } catch (err) {
      this.host.log.error('ssh policy decision failed; refusing', { err });
      this.failWith('the policy could not be evaluated, so this is refused', 'policy_error', POLICY_EXIT_STATUS);
      return false;
    }
    if (d.action === 'allow') return true;
    if (d.action === 'block') {
      this.host.auditEvent('command.blocked', { rule: d.rule, command: what, kind: this.kind, channel: this.channelId });
      this.failWith(d.message, 'policy_blocked', POLICY_EXIT_STATUS);
      return false;
    }
    const broker = this.host.approvals;
    if (!broker) {
      this.failWith(`${d.message}; no approver is available, so it is denied`, 'approval_unavailable', POLICY_EXIT_STATUS);
      return false;
    }
    const rule = d.rule ?? '(policy)';
    if (broker.sessionApproval(this.host.sessionId, rule)) return true;
    const held = broker.request({
      sessionId: this.host.sessionId,
      agentName: this.host.agentName,
      connectionName: this.host.connectionName,
      protocol: 'ssh',
      statement: what,
      rule,
      message: d.message,
      timeoutMs: d.timeoutMs,
    });
    this.held = held;
    this.note(`gatehouse: ${d.message}; waiting for approval (request ${held.id})\r\n`);
    const outcome = await held.outcome;
    this.held = null;
    if (this.finished) return false;
    if (outcome.status === 'approved') {
      this.note(`gatehouse: approved by ${outcome.approval.decidedBy}\r\n`);
      return true;
    }
    const why =
      outcome.status === 'denied'
        ? `denied by ${outcome.approval.decidedBy}${outcome.approval.reason ? `: ${outcome.approval.reason}` : ''}`
        : outcome.status === 'timed_out'
          ? 'no decision in time, so it is denied'
          : outcome.status === 'gateway_stopped'
            ? 'gatehouse stopped, so it is denied'
            : 'withdrawn';
    this.failWith(why, `approval_${outcome.status}`, POLICY_EXIT_STATUS);
    return false;
  }

  /** Tell the agent something on stderr (recorded like any output). */
  private note(text: string): void {
    this.record(() => this.cast?.output(Buffer.from(text)));
    this.stream?.stderr.write(text);
  }

  /** Create the .cast file (shell and exec) and the index row. Returns false after failing the channel. */
  private openRecording(kind: SshChannelKind, command: string | null): boolean {
    const startedAt = Date.now();
    const withCast = kind === 'shell' || kind === 'exec';
    const rel = withCast ? path.join('recordings', this.host.sessionId, `${this.channelId}.cast`) : null;
    try {
      if (rel) {
        this.cast = new AsciicastWriter(
          path.join(this.host.dataDir, rel),
          {
            width: this.pty?.cols || 80,
            height: this.pty?.rows || 24,
            startedAt,
            ...(command !== null ? { command } : {}),
            env: { TERM: this.pty?.term ?? this.env.TERM ?? 'dumb', SHELL: '/bin/sh' },
          },
          { maxOutputBytes: this.host.maxRecordingBytes },
        );
      }
      if (kind === 'sftp') this.sftp = new SftpTap((op) => this.fileOp(op));
      this.host.store.ssh.startRecording({
        sessionId: this.host.sessionId,
        channelId: this.channelId,
        kind,
        command,
        file: rel,
        startedAt,
        endedAt: null,
        exitStatus: null,
        exitSignal: null,
        bytesIn: 0,
        bytesOut: 0,
        endReason: null,
        truncated: false,
      });
      return true;
    } catch (err) {
      this.host.log.error('cannot start the recording of an ssh channel', { err });
      this.host.auditEvent('session.aborted', { reason: 'recording_failed', channel: this.channelId, kind });
      this.failWith('gatehouse cannot record this channel, so it is refused', 'recording_failed');
      return false;
    }
  }

  /**
   * Open the upstream channel with the agent / X11 forwarding this channel was allowed. If the upstream
   * host refuses that forwarding (ssh2 then fails the whole request), the agent is told on stderr, it is
   * audited, and the channel opens without it, as OpenSSH's client carries on after a refused x11-req.
   */
  private async openUpstreamWithForwarding(client: Client, kind: SshChannelKind, command: string | null): Promise<ClientChannel> {
    const forwarding = kind !== 'sftp' && (this.agentForward || this.x11 !== null);
    try {
      return await this.openUpstream(client, kind, command, forwarding);
    } catch (err) {
      if (!forwarding || this.finished) throw err;
      const what = [this.agentForward ? 'agent' : '', this.x11 ? 'X11' : ''].filter(Boolean).join(' and ');
      this.host.auditEvent('ssh.forward_failed', { request: [this.agentForward ? 'auth-agent' : '', this.x11 ? 'x11' : ''].filter(Boolean).join(','), channel: this.channelId, reason: 'upstream_refused', message: (err as Error).message });
      this.host.forwardingEnded(this.agentForward, this.x11 !== null);
      this.agentForward = false;
      this.x11 = null;
      this.note(`gatehouse: the upstream host refused ${what} forwarding; continuing without it\r\n`);
      return this.openUpstream(client, kind, command, false);
    }
  }

  private openUpstream(client: Client, kind: SshChannelKind, command: string | null, withForwarding: boolean): Promise<ClientChannel> {
    return new Promise((resolve, reject) => {
      const done = (err: Error | undefined, ch: ClientChannel) => (err ? reject(err) : resolve(ch));
      const env = Object.keys(this.env).length ? this.env : undefined;
      const pty = this.pty ? { rows: this.pty.rows, cols: this.pty.cols, width: this.pty.width, height: this.pty.height, term: this.pty.term, modes: this.pty.modes } : undefined;
      // The agent's own X11 cookie goes upstream unchanged: its ssh client checks it on each X11 channel
      // and puts the real one in its place. ssh2's server hands it over as a Buffer of the hex text, and its
      // client would hex-encode a Buffer again, so it goes back as the text. agentForward is an ssh2
      // exec/shell option its types lack.
      const cookie: unknown = this.x11?.cookie;
      const x11 =
        withForwarding && this.x11
          ? { x11: { single: this.x11.single, screen: this.x11.screen, protocol: this.x11.protocol, cookie: Buffer.isBuffer(cookie) ? cookie.toString('latin1') : String(cookie) } }
          : {};
      const forwarding: ExecOptions & { agentForward?: boolean } = { ...x11, ...(withForwarding && this.agentForward ? { agentForward: true } : {}) };
      try {
        if (kind === 'shell') client.shell(pty ?? false, { env, ...forwarding }, done);
        else if (kind === 'sftp') client.subsys('sftp', done);
        else client.exec(command!, { env, ...(pty ? { pty } : {}), ...forwarding }, done);
      } catch (err) {
        reject(err as Error);
      }
    });
  }

  private relay(stream: ServerChannel, up: ClientChannel): void {
    this.up = up;
    const recordInput = this.host.recordInput && this.cast !== null;
    up.on('error', () => {});
    up.stderr.on('error', () => {});

    stream.on('data', (d: Buffer) => {
      this.bytesIn += d.length;
      this.lastInputAt = Date.now();
      this.host.countBytes(d.length, 0);
      if (recordInput && !this.record(() => this.cast!.input(d))) return;
      if (this.sftp && !this.record(() => this.sftp!.fromClient(d))) return;
      if (!up.write(d)) stream.pause();
    });
    up.on('drain', () => stream.resume());
    stream.on('end', () => up.end());

    // What the agent sees (and the recording keeps): masked for shell and exec, as it came otherwise.
    const send = (d: Buffer, target: Writable): boolean => {
      if (this.cast && !this.record(() => this.cast!.output(d))) return true;
      return target.write(d);
    };
    const toClient = (source: { pause(): void; resume(): void }, target: Writable, masker: TerminalMasker | null) => {
      // The held tail of a masked stream goes out after a short idle, so prompts aren't kept back.
      let timer: NodeJS.Timeout | null = null;
      const idleFlush = () => {
        timer = null;
        this.maskTimers.delete(idleFlush);
        const rest = masker!.flush();
        if (rest.length && !this.finished) send(rest, target);
      };
      const armIdleFlush = () => {
        if (!masker!.holding) {
          if (timer) clearTimeout(timer);
          timer = null;
          this.maskTimers.delete(idleFlush);
        } else if (timer) timer.refresh();
        else {
          timer = setTimeout(idleFlush, this.host.maskFlushMs);
          this.maskTimers.set(idleFlush, timer);
        }
      };
      const onData = (d: Buffer) => {
        this.bytesOut += d.length;
        this.host.countBytes(0, d.length);
        if (this.sftp && !this.record(() => this.sftp!.fromServer(d))) return;
        let out = d;
        if (masker) {
          try {
            out = masker.push(d);
          } catch (err) {
            // Fail closed: output that could not be checked is not passed on.
            this.host.log.error('masking ssh output failed; closing the channel', { err });
            this.up?.close();
            this.failWith('gatehouse could not apply masking to this output, so it closed the channel', 'masking_failed');
            return;
          }
          if (masker.holding && d.length <= ECHO_CHUNK_BYTES && Date.now() - this.lastInputAt <= ECHO_WINDOW_MS) {
            // Most likely the echo of what the agent just typed: send it now rather than after the idle
            // flush (it is still masked as a unit; only a value split across such small pieces is missed).
            const rest = masker.flush();
            out = out.length ? Buffer.concat([out, rest]) : rest;
          }
          armIdleFlush();
          if (!out.length) return;
        }
        if (!send(out, target)) {
          source.pause();
          target.once('drain', () => source.resume());
        }
      };
      const onEnd = () => {
        if (!masker) return;
        if (timer) clearTimeout(timer);
        timer = null;
        const rest = masker.flush();
        if (rest.length && !this.finished) send(rest, target);
      };
      return { onData, onEnd };
    };
    const masked = this.kind === 'shell' || this.kind === 'exec';
    const outMasker = masked ? this.host.outputMasker() : null;
    const errMasker = masked ? this.host.outputMasker() : null;
    for (const m of [outMasker, errMasker]) if (m) this.maskers.push(m);
    const toStdout = toClient(up, stream, outMasker);
    const toStderr = toClient(up.stderr, stream.stderr, errMasker);
    up.on('data', toStdout.onData);
    up.stderr.on('data', toStderr.onData);
    up.once('end', toStdout.onEnd);
    up.stderr.once('end', toStderr.onEnd);
    up.on('exit', (code: number | null, signal?: string, coreDumped?: boolean, description?: string) => {
      this.exit = code !== null && code !== undefined ? { code } : { signal: signal ?? 'SIGKILL', coreDumped: !!coreDumped, description: description ?? '' };
    });
    let pending = 3;
    const oneDone = () => {
      if (--pending === 0) this.upstreamFinished();
    };
    up.once('end', oneDone);
    up.stderr.once('end', oneDone);
    up.once('close', oneDone);
    stream.resume();
  }

  /** The upstream channel has closed and everything it sent was passed on: report its exit, close ours. */
  private upstreamFinished(): void {
    if (this.finished || !this.stream) return;
    this.upstreamDone = true;
    const stream = this.stream;
    if (this.exit && 'code' in this.exit) stream.exit(this.exit.code);
    else if (this.exit) stream.exit(this.exit.signal, this.exit.coreDumped, this.exit.description);
    stream.end();
    this.finish('completed');
  }

  /** The agent closed the channel or dropped the connection: close upstream, keep what was recorded. */
  clientGone(): void {
    if (this.finished) return;
    this.held?.withdraw();
    this.up?.close();
    if (this.up && !this.upstreamDone) {
      this.host.auditEvent('session.aborted', { reason: 'client_closed', channel: this.channelId, kind: this.kind, bytesIn: this.bytesIn, bytesOut: this.bytesOut });
    }
    this.finish('client_closed');
  }

  /** Run a recording step; on failure end the channel (fail closed) and return false. */
  private record(step: () => void): boolean {
    if (this.finished) return false;
    try {
      step();
      return true;
    } catch (err) {
      this.host.log.error('recording an ssh channel failed; closing it', { err });
      this.host.auditEvent('session.aborted', { reason: 'recording_failed', channel: this.channelId, kind: this.kind });
      this.up?.close();
      this.failWith('recording failed, so gatehouse closed this channel', 'recording_failed');
      return false;
    }
  }

  private fileOp(op: { op: string; path: string; target?: string | null; direction: 'upload' | 'download' | null; bytes: number }): void {
    this.host.store.ssh.addFileOp({
      sessionId: this.host.sessionId,
      channelId: this.channelId,
      at: Date.now(),
      op: op.op,
      path: op.path,
      target: op.target ?? null,
      direction: op.direction,
      bytes: op.bytes,
    });
  }

  /** Tell the agent why on stderr, exit with `status` (default 255), close the channel. */
  private failWith(message: string, reason: string, status = GATEWAY_EXIT_STATUS): void {
    const stream = this.stream;
    if (stream && !this.finished) {
      const text = `gatehouse: ${message}\r\n`;
      try {
        this.cast?.output(Buffer.from(text));
      } catch {
        // The recording is what failed; the agent still gets the message.
      }
      try {
        stream.stderr.write(text);
        stream.exit(status);
        stream.end();
      } catch {
        // The agent is gone already.
      }
    }
    this.finish(reason, status);
  }

  private finish(reason: string, gatewayExit?: number): void {
    if (this.finished) return;
    this.finished = true;
    if (this.agentForward || this.x11) this.host.forwardingEnded(this.agentForward, this.x11 !== null);
    for (const t of this.maskTimers.values()) clearTimeout(t);
    this.maskTimers.clear();
    try {
      this.cast?.close();
    } catch (err) {
      this.host.log.error('closing an ssh recording failed', { err });
    }
    if (this.scp) {
      const bytes = this.scp.direction === 'upload' ? this.bytesIn : this.bytesOut;
      try {
        this.fileOp({ op: this.scp.direction, path: this.scp.path, direction: this.scp.direction, bytes });
      } catch (err) {
        this.host.log.error('recording an scp transfer failed', { err });
      }
    }
    try {
      this.sftp?.close();
    } catch (err) {
      this.host.log.error('recording sftp operations failed', { err });
    }
    if (this.channelId && this.kind) {
      const exit = this.exit;
      try {
        this.host.store.ssh.endRecording(this.host.sessionId, this.channelId, {
          endedAt: Date.now(),
          exitStatus: gatewayExit ?? (exit && 'code' in exit ? exit.code : null),
          exitSignal: gatewayExit === undefined && exit && 'signal' in exit ? exit.signal : null,
          bytesIn: this.bytesIn,
          bytesOut: this.bytesOut,
          endReason: reason,
          truncated: this.cast?.truncated ?? false,
          masked: this.maskers.reduce((n, m) => n + m.maskedCount, 0),
          maskedBy: maskCountsByKey(this.maskers.map((m) => m.counts)),
        });
      } catch (err) {
        this.host.log.error('could not index the end of an ssh recording', { err });
      }
    }
    // Chain the recording file's digest into the audit trail: `gatehouse audit verify` re-hashes the
    // file and reports any later edit, truncation or deletion (docs/audit.md).
    const sha256 = this.cast?.sha256;
    if (this.cast && sha256) {
      this.host.auditEvent('ssh.recorded', {
        channel: this.channelId,
        kind: this.kind,
        file: path.relative(this.host.dataDir, this.cast.file),
        sha256,
        bytes: this.cast.fileBytes,
        ...(this.cast.truncated ? { truncated: true } : {}),
      });
    }
    this.host.log.info('ssh channel ended', { channel: this.channelId, kind: this.kind, reason, command: this.command ?? undefined });
    this.host.channelClosed(this);
  }
}

/** The masked-value tallies of a channel's maskers (stdout, stderr), merged by `<rule>:<detector>`. */
function maskCountsByKey(all: ReadonlyMap<string, number>[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const counts of all) for (const [k, n] of counts) out[k] = (out[k] ?? 0) + n;
  return out;
}
