import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { Logger } from '../core/logger';
import type { Recorder } from '../recording/recorder';
import type { SessionRecord } from '../store/records';
import { errorResponse, type ErrorFields } from './backend-messages';
import {
  readBind,
  readCommandTag,
  readErrorCode,
  readExecute,
  readParse,
  readQuery,
  readTarget,
  rowsFromTag,
} from './frontend-messages';
import { MessageFramer, ProtocolViolation, typeSet, type FrameSink } from './message-framer';
import { Backend, Frontend, SqlState } from './protocol-codes';
import { StatementTracker, type TrackedStatement } from './statement-tracker';

type Stream = Socket | TLSSocket;

const TERMINATE = Buffer.from([Frontend.terminate, 0, 0, 0, 4]);

/** Frontend messages the relay reads; CopyData/CopyDone/CopyFail stream through untouched. */
const CLIENT_INSPECTED = typeSet([
  Frontend.query,
  Frontend.parse,
  Frontend.bind,
  Frontend.describe,
  Frontend.execute,
  Frontend.close,
  Frontend.sync,
  Frontend.flush,
  Frontend.functionCall,
  Frontend.terminate,
]);

/** Backend messages the relay reads; DataRow, CopyData, notices etc. stream through untouched. */
const SERVER_INSPECTED = typeSet([
  Backend.parseComplete,
  Backend.bindComplete,
  Backend.closeComplete,
  Backend.rowDescription,
  Backend.noData,
  Backend.commandComplete,
  Backend.emptyQueryResponse,
  Backend.portalSuspended,
  Backend.errorResponse,
  Backend.readyForQuery,
]);

export interface RelayHooks {
  /** The client went away with requests outstanding: cancel them upstream. */
  cancelUpstream(): void;
  /** The relay ended (called once). */
  ended(reason: string): void;
}

/**
 * Relays one authenticated session between a client and its upstream. Client messages are framed so
 * every statement is seen whole before it is forwarded; server bytes are forwarded as they come, and a
 * chunk that completes statements is forwarded only after the recorder has made them durable, so nothing
 * acknowledged to the client is missing from the record.
 */
export class PgRelay {
  private readonly fromClient = new MessageFramer(CLIENT_INSPECTED);
  private readonly fromServer = new MessageFramer(SERVER_INSPECTED);
  private readonly tracker: StatementTracker;
  private out: Buffer[] = [];
  private recordedInChunk = false;
  /** Whether everything written to the client so far ends at a message boundary. */
  private clientAtBoundary = true;
  private clientTerminated = false;
  private upstreamSentFatal = false;
  private ending: { reason: string; fatal: ErrorFields | null } | null = null;
  private done = false;

  private readonly clientSink: FrameSink = {
    message: (type, buf, start, end) => {
      switch (type) {
        case Frontend.query:
          this.tracker.query(readQuery(buf, start, end));
          break;
        case Frontend.parse: {
          const p = readParse(buf, start, end);
          this.tracker.parse(p.name, p.sql);
          break;
        }
        case Frontend.bind: {
          const b = readBind(buf, start, end);
          this.tracker.bind(b.portal, b.statement, b.params);
          break;
        }
        case Frontend.execute:
          this.tracker.execute(readExecute(buf, start, end));
          break;
        case Frontend.describe:
          readTarget(buf, start, end);
          this.tracker.describe();
          break;
        case Frontend.close: {
          const t = readTarget(buf, start, end);
          this.tracker.close(t.kind, t.name);
          break;
        }
        case Frontend.sync:
          this.tracker.sync();
          break;
        case Frontend.functionCall:
          this.tracker.functionCall();
          break;
        case Frontend.terminate:
          this.clientTerminated = true;
          break;
      }
      this.out.push(buf.subarray(start, end));
    },
    passthrough: (buf, start, end) => {
      this.out.push(buf.subarray(start, end));
    },
  };

  private readonly serverSink: FrameSink = {
    message: (type, buf, start, end) => {
      switch (type) {
        case Backend.parseComplete:
        case Backend.bindComplete:
        case Backend.closeComplete:
          this.tracker.acknowledged();
          break;
        case Backend.rowDescription:
        case Backend.noData:
          this.tracker.described();
          break;
        case Backend.commandComplete: {
          const tag = readCommandTag(buf, start, end);
          this.tracker.commandComplete(tag, rowsFromTag(tag));
          break;
        }
        case Backend.emptyQueryResponse:
        case Backend.portalSuspended:
          this.tracker.executeEnded();
          break;
        case Backend.errorResponse:
          if (isFatal(buf, start, end)) this.upstreamSentFatal = true;
          this.tracker.error(readErrorCode(buf, start, end));
          break;
        case Backend.readyForQuery:
          this.tracker.readyForQuery();
          break;
      }
    },
    passthrough: () => {},
  };

  constructor(
    private readonly client: Stream,
    private readonly upstream: Stream,
    private readonly recorder: Recorder,
    private readonly session: SessionRecord,
    private readonly log: Logger,
    private readonly hooks: RelayHooks,
  ) {
    this.tracker = new StatementTracker((s) => this.onStatement(s));
  }

  /** Start relaying; `clientLeftover`/`upstreamLeftover` are bytes already read during the handshake. */
  start(clientLeftover: Buffer, upstreamLeftover: Buffer): void {
    this.client.on('data', this.onClientData);
    this.upstream.on('data', this.onUpstreamData);
    this.client.on('end', () => this.finish(this.clientTerminated ? 'client_terminated' : 'client_closed', null));
    this.client.on('close', () => this.finish(this.clientTerminated ? 'client_terminated' : 'client_closed', null));
    this.client.on('error', (err) => {
      this.log.debug('client socket error', { err });
      this.finish('client_closed', null);
    });
    const upstreamGone = () => {
      // After the client's Terminate the upstream closing first is the normal end, not a failure.
      if (this.clientTerminated) return this.finish('client_terminated', null);
      this.finish(
        'upstream_closed',
        this.upstreamSentFatal ? null : { severity: 'FATAL', code: SqlState.connectionFailure, message: 'the upstream database closed the connection' },
      );
    };
    this.upstream.on('end', upstreamGone);
    this.upstream.on('close', upstreamGone);
    this.upstream.on('error', (err) => {
      this.log.warn('upstream socket error', { err: { message: err.message } });
      upstreamGone();
    });
    if (upstreamLeftover.length) this.onUpstreamData(upstreamLeftover);
    if (clientLeftover.length) this.onClientData(clientLeftover);
    this.client.resume();
    this.upstream.resume();
  }

  /** End the session from the gateway side (grant revoked, shutdown), telling the client why. */
  terminate(reason: string, fatal: ErrorFields): void {
    this.finish(reason, fatal);
  }

  private readonly onClientData = (chunk: Buffer): void => {
    if (this.done) return;
    this.session.bytesIn += chunk.length;
    try {
      this.fromClient.push(chunk, this.clientSink);
    } catch (err) {
      this.out = [];
      this.protocolViolation(err, 'client');
      return;
    }
    const out = this.out;
    if (out.length === 0) return;
    const data = out.length === 1 ? out[0] : Buffer.concat(out);
    this.out = [];
    if (!this.upstream.write(data)) {
      this.client.pause();
      this.upstream.once('drain', () => this.client.resume());
    }
  };

  private readonly onUpstreamData = (chunk: Buffer): void => {
    if (this.done) return;
    this.recordedInChunk = false;
    try {
      this.fromServer.push(chunk, this.serverSink);
    } catch (err) {
      this.protocolViolation(err, 'upstream');
      return;
    }
    this.session.bytesOut += chunk.length;
    if (this.recordedInChunk) {
      try {
        this.recorder.persist();
      } catch (err) {
        // Fail closed: what could not be recorded is not delivered.
        this.log.error('recording failed; ending the session', { err });
        this.finish('recording_failed', { severity: 'FATAL', code: SqlState.internalError, message: 'gatehouse could not record this session; the connection is closed' });
        return;
      }
    }
    this.writeClient(chunk, this.fromServer.atBoundary);
  };

  private writeClient(chunk: Buffer, boundary: boolean): void {
    this.clientAtBoundary = boundary;
    if (!this.client.write(chunk) && !this.done) {
      this.upstream.pause();
      this.client.once('drain', () => this.upstream.resume());
    }
  }

  private onStatement(s: TrackedStatement): void {
    this.recordedInChunk = true;
    this.recorder.statement(this.session, s);
  }

  private protocolViolation(err: unknown, side: 'client' | 'upstream'): void {
    if (!(err instanceof ProtocolViolation)) this.log.error('relay failure', { err });
    else this.log.warn('protocol violation', { side, detail: err.message });
    this.finish(side === 'client' ? 'protocol_violation' : 'upstream_protocol_violation', {
      severity: 'FATAL',
      code: SqlState.protocolViolation,
      message: side === 'client' ? `invalid message from client: ${(err as Error).message}` : 'the upstream sent an invalid message',
    });
  }

  /** Stop both directions once; the client gets `fatal` if the stream is at a message boundary. */
  private finish(reason: string, fatal: ErrorFields | null): void {
    if (this.done) return;
    this.done = true;
    this.ending = { reason, fatal };
    const clientGone = reason === 'client_closed' || reason === 'client_terminated';
    // A query still running upstream would outlive its client: PostgreSQL only notices a closed socket
    // when it next writes, so cancel it explicitly.
    if (reason === 'client_closed' && this.tracker.outstanding > 0) this.hooks.cancelUpstream();
    const lost = clientGone || reason === 'upstream_closed';
    this.tracker.abort(lost ? SqlState.connectionFailure : (fatal?.code ?? SqlState.adminShutdown));
    this.client.pause();
    this.upstream.pause();
    // Say goodbye properly so the server logs a clean exit rather than an unexpected EOF.
    if (reason !== 'upstream_closed' && !this.upstream.destroyed && this.upstream.writable) this.upstream.end(TERMINATE);
    setTimeout(() => this.upstream.destroy(), 2000).unref();
    if (clientGone) this.client.destroy();
    else this.closeClient();
    this.hooks.ended(reason);
  }

  private closeClient(): void {
    const fatal = this.ending?.fatal;
    if (this.client.destroyed) return;
    if (fatal && this.clientAtBoundary) this.client.write(errorResponse(fatal));
    this.client.end();
    setTimeout(() => this.client.destroy(), 2000).unref();
  }
}

function isFatal(buf: Buffer, start: number, end: number): boolean {
  // Severity is the first field ('S'); FATAL and PANIC end the backend.
  if (buf[start + 5] !== 0x53) return false;
  const sev = buf.toString('latin1', start + 6, Math.min(end, start + 11));
  return sev.startsWith('FATAL') || sev.startsWith('PANIC');
}
