import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { Logger } from '../core/logger';
import type { Recorder } from '../recording/recorder';
import type { SessionRecord } from '../store/records';
import { errorResponse, type ErrorFields } from './backend-messages';
import {
  readBind,
  readBindResultFormats,
  readCommandTag,
  readErrorCode,
  readExecute,
  readParse,
  readQuery,
  readTarget,
  rowsFromTag,
} from './frontend-messages';
import { MessageFramer, ProtocolViolation, typeSet, type FrameSink } from './message-framer';
import { OutputBuilder } from './output-builder';
import { raisingExtended, raisingQuery } from './policy-error';
import { Backend, Frontend, SqlState } from './protocol-codes';
import type { StatementGate } from './statement-gate';
import { StatementTracker, type PolicyMark, type TrackedStatement } from './statement-tracker';
import type { HeldRequest } from '../approvals/approval-broker';
import type { StatementDecision } from '../policy/policy-types';
import type { ResultMasker, ResultShape } from '../policy/masking/result-masker';
import { analyzeSql } from '../policy/sql-parser';

/** Column names resolved from the upstream catalog, for column rules written as table.column. */
export interface ColumnCatalog {
  /** The source column of a result column, when known. */
  lookup(oid: number, attnum: number): { schema: string; table: string; column: string } | undefined;
  /** Whether every (table OID, attnum) pair is already known. */
  has(pairs: readonly { oid: number; attnum: number }[]): boolean;
  /** Look the pairs up upstream (a side connection); resolves when they are cached (or unknowable). */
  fill(pairs: readonly { oid: number; attnum: number }[]): Promise<void>;
}

/** Result masking for one session. */
export interface RelayMasking {
  masker: ResultMasker;
  catalog: ColumnCatalog | null;
}

/** Rows of a statement's result kept as its preview (masked, as the client saw them). */
const PREVIEW_ROWS = 5;
const PREVIEW_MAX_CHARS = 2000;

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
  private readonly serverInspected = SERVER_INSPECTED.slice();
  private readonly fromServer = new MessageFramer(this.serverInspected);
  private readonly tracker: StatementTracker;
  private out: Buffer[] = [];
  private recordedInChunk = false;
  /** Whether everything written to the client so far ends at a message boundary. */
  private clientAtBoundary = true;
  private clientTerminated = false;
  private upstreamSentFatal = false;
  private ending: { reason: string; fatal: ErrorFields | null } | null = null;
  private done = false;

  /** A statement held for approval: client messages wait in `backlog` (in order) until it is settled. */
  private held: { request: HeldRequest; backlog: { type: number; buf: Buffer; start: number; end: number }[] } | null = null;

  private readonly clientSink: FrameSink = {
    message: (type, buf, start, end) => {
      if (this.held) this.held.backlog.push({ type, buf, start, end });
      else this.clientMessage(type, buf, start, end);
    },
    passthrough: (buf, start, end) => {
      // CopyData etc.: type -1 marks raw bytes in the backlog.
      if (this.held) this.held.backlog.push({ type: -1, buf, start, end });
      else this.out.push(buf.subarray(start, end));
    },
  };

  /** One whole client message: decide on it, then forward, refuse in order, or hold it. */
  private clientMessage(type: number, buf: Buffer, start: number, end: number): void {
    if (type === -1) {
      this.out.push(buf.subarray(start, end));
      return;
    }
    switch (type) {
      case Frontend.query: {
        const sql = readQuery(buf, start, end);
        if (this.gate) {
          const mark = this.gateStatement(sql, 'simple', type, buf, start, end);
          if (mark === HELD_OR_REFUSED) return;
          this.tracker.query(sql, mark);
          if (mark?.policyAction === 'approve') this.preparedOnApproval(sql);
        } else this.tracker.query(sql);
        break;
      }
      case Frontend.parse: {
        const p = readParse(buf, start, end);
        if (this.gate) {
          const mark = this.gateStatement(p.sql, 'extended', type, buf, start, end, p.name);
          if (mark === HELD_OR_REFUSED) return;
          this.tracker.parse(p.name, p.sql, mark);
          // Went ahead on a standing (session-wide) approval: later Binds are checked again too.
          if (mark?.policyAction === 'approve') this.approvedOnce.set(p.name, { sql: p.sql, firstBound: false });
          else this.approvedOnce.delete(p.name);
        } else this.tracker.parse(p.name, p.sql);
        break;
      }
      case Frontend.bind: {
        const b = readBind(buf, start, end);
        // A statement approved for one run: its first Bind is that run; any later Bind is decided again.
        const once = this.gate ? this.approvedOnce.get(b.statement) : undefined;
        if (once) {
          if (!once.firstBound) once.firstBound = true;
          else if (this.gateBind(once, type, buf, start, end) === HELD_OR_REFUSED) return;
        }
        this.tracker.bind(b.portal, b.statement, b.params, this.masking ? readBindResultFormats(buf, start, end) : undefined);
        break;
      }
      case Frontend.execute:
        this.tracker.execute(readExecute(buf, start, end));
        break;
      case Frontend.describe: {
        const t = readTarget(buf, start, end);
        this.tracker.describe(t.kind, t.name);
        break;
      }
      case Frontend.close: {
        const t = readTarget(buf, start, end);
        this.tracker.close(t.kind, t.name);
        if (t.kind === 'S' && t.name) this.gate?.closed(t.name);
        break;
      }
      case Frontend.sync:
        this.tracker.sync();
        break;
      case Frontend.functionCall:
        if (this.gate?.refusesFunctionCall) {
          const message = 'blocked by policy: function calls by OID (the fast-path protocol) cannot be checked against the policy';
          const mark: PolicyMark = { policyAction: 'block', policyRule: 'fast-path-function-call', approvalId: null };
          this.tracker.functionCall({ sql: '<fast-path function call>', mark });
          this.gate.refused('<fast-path function call>', { kind: 'blocked', rule: mark.policyRule, message });
          this.out.push(raisingQuery(SqlState.insufficientPrivilege, message));
          return;
        }
        this.tracker.functionCall();
        break;
      case Frontend.terminate:
        this.clientTerminated = true;
        break;
    }
    this.out.push(buf.subarray(start, end));
  }

  /**
   * Apply the policy decision to a Query or Parse. Returns the mark to record with a statement that goes
   * ahead, or HELD_OR_REFUSED when the message was replaced by an in-order error or is now held.
   */
  private gateStatement(sql: string, protocol: 'simple' | 'extended', type: number, buf: Buffer, start: number, end: number, name?: string): PolicyMark | null | typeof HELD_OR_REFUSED {
    const gate = this.gate!;
    // A named Parse is also decided on what the name held before (it stays in force if this Parse fails).
    const d = gate.decide(sql, name || undefined);
    if (d.action === 'allow') {
      gate.forwarded(sql, name || undefined);
      return null;
    }
    if (d.action === 'block') {
      this.refuse(sql, protocol, SqlState.insufficientPrivilege, d.message, { policyAction: 'block', policyRule: d.rule ?? 'policy', approvalId: null }, name);
      gate.refused(sql, { kind: 'blocked', rule: d.rule, message: d.message });
      return HELD_OR_REFUSED;
    }
    const rule = d.rule ?? 'policy';
    const standing = gate.sessionApproval(rule);
    if (standing) {
      gate.forwarded(sql, name || undefined);
      return { policyAction: 'approve', policyRule: rule, approvalId: standing };
    }
    this.hold(sql, protocol, d, { type, buf, start, end }, name);
    return HELD_OR_REFUSED;
  }

  /**
   * Statements (by name; '' = unnamed) whose Parse went ahead on a human's approval of one statement.
   * Bind/Execute run a prepared statement again without a new Parse, so every Bind after the first is
   * decided again (held, or covered by a session-wide approval). A Parse the policy allows clears it.
   */
  private readonly approvedOnce = new Map<string, { sql: string; firstBound: boolean }>();

  /**
   * A Query that went ahead on an approval may PREPARE statements: SQL EXECUTE of them is decided each
   * time anyway, and a protocol Bind of them (same namespace) is decided as that EXECUTE would be.
   */
  private preparedOnApproval(sql: string): void {
    const a = analyzeSql(sql);
    if (!a.ok) return;
    for (const s of a.statements) {
      if (s.prepare) this.approvedOnce.set(s.prepare.name, { sql: `EXECUTE "${s.prepare.name.replace(/"/g, '""')}"`, firstBound: true });
    }
  }

  /** Decide a Bind of a statement approved once (see approvedOnce); null: it goes ahead. */
  private gateBind(once: { sql: string; firstBound: boolean }, type: number, buf: Buffer, start: number, end: number): null | typeof HELD_OR_REFUSED {
    const gate = this.gate!;
    const d = gate.decide(once.sql);
    if (d.action === 'allow') return null;
    if (d.action === 'block') {
      this.refuse(once.sql, 'bind', SqlState.insufficientPrivilege, d.message, { policyAction: 'block', policyRule: d.rule ?? 'policy', approvalId: null });
      gate.refused(once.sql, { kind: 'blocked', rule: d.rule, message: d.message });
      return HELD_OR_REFUSED;
    }
    if (gate.sessionApproval(d.rule ?? 'policy')) return null;
    this.hold(once.sql, 'bind', d, { type, buf, start, end });
    return HELD_OR_REFUSED;
  }

  /** Send, in place of the client's message, one that makes the server raise the refusal in order. */
  private refuse(sql: string, protocol: 'simple' | 'extended' | 'bind', sqlstate: string, message: string, mark: PolicyMark, name?: string): void {
    if (protocol === 'simple') {
      this.tracker.refusedQuery(sql, mark);
      this.out.push(raisingQuery(sqlstate, message));
    } else if (protocol === 'bind') {
      this.tracker.refusedBind(sql, mark);
      this.out.push(raisingExtended(sqlstate, message));
    } else {
      this.tracker.refusedParse(name ?? '', sql, mark);
      this.out.push(raisingExtended(sqlstate, message));
    }
  }

  /**
   * Hold a statement for a human: nothing more from this client is read or forwarded until the request
   * is settled. Approved: the statement and everything queued behind it go ahead. Anything else: it is
   * refused in order (42501 denied, 57014 timed out) and the queue goes on after it.
   */
  private hold(sql: string, protocol: 'simple' | 'extended' | 'bind', d: StatementDecision, msg: { type: number; buf: Buffer; start: number; end: number }, name?: string): void {
    const gate = this.gate!;
    const rule = d.rule ?? 'policy';
    let request: HeldRequest;
    try {
      request = gate.hold(sql, d);
    } catch (err) {
      // Fail closed: a hold that could not be set up (store error) is a refusal.
      this.log.error('could not hold a statement for approval; refusing it', { err });
      const message = `refused: policy rule "${rule}" requires approval and the request could not be recorded`;
      this.refuse(sql, protocol, SqlState.insufficientPrivilege, message, { policyAction: 'approve', policyRule: rule, approvalId: null }, name);
      gate.refused(sql, { kind: 'denied', rule, message });
      return;
    }
    this.held = { request, backlog: [] };
    this.client.pause();
    void request.outcome.then((o) => {
      if (this.done || !this.held) return;
      const backlog = this.held.backlog;
      this.held = null;
      const mark: PolicyMark = { policyAction: 'approve', policyRule: rule, approvalId: request.id };
      if (o.status === 'approved' && protocol === 'bind') {
        // This Bind is the one run approved: let it through the Bind path as a first Bind.
        const b = readBind(msg.buf, msg.start, msg.end);
        const once = this.approvedOnce.get(b.statement);
        if (once) once.firstBound = false;
        this.clientMessage(msg.type, msg.buf, msg.start, msg.end);
      } else if (o.status === 'approved') {
        gate.forwarded(sql, name || undefined);
        if (protocol === 'simple') {
          this.tracker.query(sql, mark);
          this.preparedOnApproval(sql);
        } else {
          const p = readParse(msg.buf, msg.start, msg.end);
          this.tracker.parse(p.name, p.sql, mark);
          // Approved for one run (a session-wide approval covers later Binds through gateBind).
          this.approvedOnce.set(p.name, { sql: p.sql, firstBound: false });
        }
        this.out.push(msg.buf.subarray(msg.start, msg.end));
      } else {
        const timedOut = o.status === 'timed_out';
        const who = o.approval.decidedBy ?? 'gatehouse';
        const message = timedOut
          ? `canceling statement: approval for policy rule "${rule}" timed out (request ${request.id})`
          : o.status === 'denied'
            ? `denied by ${who}${o.approval.reason ? `: ${o.approval.reason}` : ''} (policy rule "${rule}", request ${request.id})`
            : `refused: the approval request for policy rule "${rule}" ended (${o.status.replace('_', ' ')})`;
        this.refuse(sql, protocol, timedOut ? SqlState.queryCanceled : SqlState.insufficientPrivilege, message, mark, name);
        gate.refused(sql, { kind: o.status, rule, message, approvalId: request.id });
      }
      // Everything the client sent while it waited, in order (another statement may be held again).
      for (let i = 0; i < backlog.length; i++) {
        if (this.held) {
          (this.held as { backlog: typeof backlog }).backlog.push(...backlog.slice(i));
          break;
        }
        const m = backlog[i];
        this.clientMessage(m.type, m.buf, m.start, m.end);
      }
      this.flushToUpstream();
      if (!this.held) this.client.resume();
    });
  }

  /** Server output being rebuilt message by message (some replies are dropped or masked), or null to forward chunks whole. */
  private serverOut: OutputBuilder | null = null;
  /** Reused for every rebuilt chunk. */
  private readonly rebuilt = new OutputBuilder();
  /** Server messages waiting while a RowDescription's columns are looked up in the upstream catalog. */
  private serverHeld: { type: number; buf: Buffer; start: number; end: number }[] | null = null;
  /** Result shapes of prepared statements (for rows bound later without a new Describe). */
  private readonly shapes = new Map<string, ResultShape | null>();
  /**
   * Result shape and formats of each open portal, and the portal the masker's shape is for now (null:
   * the shape came from something else). Portals can be executed interleaved (Execute with a row limit,
   * then another portal, then the first again), so each Execute's rows must be masked with its own shape.
   */
  private readonly portalShapes = new Map<string, { shape: ResultShape | null; formats: readonly number[] }>();
  private activePortal: string | null = null;
  /** Preview of the current statement's result. */
  private preview: { columns: string[]; rows: (string | null)[][] } | null = null;

  private readonly serverSink: FrameSink = {
    message: (type, buf, start, end) => {
      if (this.serverHeld) this.serverHeld.push({ type, buf, start, end });
      else this.serverMessage(type, buf, start, end);
    },
    passthrough: (buf, start, end) => {
      if (this.serverHeld) this.serverHeld.push({ type: -1, buf, start, end });
      else this.serverOut?.push(buf, start, end);
    },
  };

  /** One whole server message: track it, mask it, and add it to the output (unless dropped). */
  private serverMessage(type: number, buf: Buffer, start: number, end: number): void {
    const masker = this.masking?.masker;
    const original = buf.subarray(start, end);
    let msg = original;
    switch (type) {
      case -1:
        break;
      case Backend.parseComplete:
      case Backend.closeComplete:
        // The reply to a Parse the gateway injected never reaches the client.
        if (this.tracker.acknowledged().injected) return;
        break;
      case Backend.bindComplete: {
        const ack = this.tracker.acknowledged();
        if (ack.injected) return;
        if (masker && ack.bound) {
          const shape = this.shapes.get(ack.bound.statement) ?? null;
          masker.useShape(shape, ack.bound.formats);
          this.portalShapes.set(ack.bound.portal, { shape, formats: ack.bound.formats });
          this.activePortal = ack.bound.portal;
        }
        break;
      }
      case Backend.rowDescription: {
        const portal = this.tracker.describedPortal();
        const statement = this.tracker.described();
        if (masker) {
          const lookups = this.masking!.catalog ? masker.catalogLookups(msg) : [];
          if (lookups.length && !this.masking!.catalog!.has(lookups)) {
            this.holdServer(lookups, msg, statement, portal);
            return;
          }
          this.describeResult(msg, statement, portal);
        }
        break;
      }
      case Backend.noData: {
        const portal = this.tracker.describedPortal();
        const statement = this.tracker.described();
        if (masker && statement !== null) this.shapes.set(statement, null);
        if (masker && portal !== null) this.portalShapes.set(portal, { shape: null, formats: [] });
        break;
      }
      case Backend.dataRow:
        if (masker) {
          // Rows of an Execute are masked with the shape of its own portal (see portalShapes).
          const portal = this.tracker.executingPortal();
          if (portal !== null && portal !== this.activePortal) {
            const known = this.portalShapes.get(portal);
            // Unknown portal: no shape, so column rules fail closed in dataRow (MaskingStateError).
            masker.useShape(known?.shape ?? null, known?.formats ?? []);
            this.activePortal = portal;
          }
          msg = masker.dataRow(msg);
          if (this.preview && this.preview.rows.length < PREVIEW_ROWS) this.preview.rows.push(previewRow(msg));
        }
        break;
      case Backend.copyOutResponse:
        if (masker && masker.copyOutResponse(msg, copyOptionsOf(this.tracker.currentSql)) === 'refuse') {
          throw new MaskingRefusal('binary COPY output cannot be masked; use COPY ... TO STDOUT in text or CSV format');
        }
        break;
      case Backend.copyData:
        if (masker) msg = masker.copyData(msg);
        break;
      case Backend.noticeResponse:
        if (masker) msg = masker.noticeOrError(msg);
        break;
      case Backend.notificationResponse:
        // NOTIFY payloads (from any session, even between statements) can carry values too.
        if (masker) msg = masker.notification(msg);
        break;
      case Backend.parameterStatus:
        // So can a reported setting: set_config('application_name', email, false).
        if (masker) msg = masker.parameterStatus(msg);
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
        if (this.serverOut && this.tracker.errorIsRefusal) {
          // The gateway's own refusal: drop the PL/pgSQL CONTEXT line that only describes how it was raised.
          this.tracker.error(readErrorCode(buf, start, end));
          this.serverOut.pushBuffer(withoutField(msg, 0x57 /* W: where */));
          return;
        }
        this.tracker.error(readErrorCode(buf, start, end));
        if (masker) msg = masker.noticeOrError(msg);
        break;
      case Backend.readyForQuery:
        this.tracker.readyForQuery();
        if (this.maskingNow && this.serverOut) {
          // A statement boundary: masking rules changed since the session started go into force here.
          // (serverOut is set whenever a change is pending: see onUpstreamData.)
          const now = this.maskingNow();
          if (now !== this.maskingGiven) this.useMasking(now);
        }
        // Outside a transaction block no portal survives.
        if (masker && buf[start + 5] === 0x49 /* I */) {
          this.portalShapes.clear();
          this.activePortal = null;
        }
        break;
    }
    if (msg === original) this.serverOut?.push(buf, start, end);
    else this.serverOut?.pushBuffer(msg);
  }

  /** A RowDescription whose columns are known: set the masker's shape and start the preview. */
  private describeResult(msg: Buffer, statement: string | null, portal: string | null): void {
    const shape = this.masking!.masker.rowDescription(msg);
    if (statement !== null) this.shapes.set(statement, shape);
    else this.preview = { columns: shape.fields.map((f) => f.name), rows: [] };
    if (portal !== null) this.portalShapes.set(portal, { shape, formats: shape.fields.map((f) => f.format) });
    this.activePortal = portal;
  }

  /**
   * Stop forwarding server output until a RowDescription's source columns are known (column rules
   * written as table.column need the upstream catalog). Everything after it waits, in order.
   */
  private holdServer(lookups: { oid: number; attnum: number }[], msg: Buffer, statement: string | null, portal: string | null): void {
    this.serverHeld = [];
    this.upstream.pause();
    const resume = () => {
      if (this.done) return;
      const backlog = this.serverHeld ?? [];
      this.serverHeld = null;
      this.serverOut = new OutputBuilder();
      this.recordedInChunk = false;
      try {
        this.describeResult(msg, statement, portal);
        this.serverOut.pushBuffer(msg);
        for (let i = 0; i < backlog.length; i++) {
          if (this.serverHeld) {
            (this.serverHeld as typeof backlog).push(...backlog.slice(i));
            break;
          }
          const m = backlog[i];
          this.serverMessage(m.type, m.buf, m.start, m.end);
        }
      } catch (err) {
        this.serverFailure(err);
        return;
      }
      this.emitServerOutput(null);
      if (!this.serverHeld) this.upstream.resume();
    };
    // Unknown columns stay unresolved; the masker then applies name patterns and detectors only.
    this.masking!.catalog!.fill(lookups).then(resume, (err) => {
      this.log.warn('catalog lookup for masking failed', { err: { message: (err as Error).message } });
      resume();
    });
  }

  constructor(
    private readonly client: Stream,
    private readonly upstream: Stream,
    private readonly recorder: Recorder,
    private readonly session: SessionRecord,
    private readonly log: Logger,
    private readonly hooks: RelayHooks,
    /** Policy for this session; null = none applies (every statement goes ahead, as before). */
    private readonly gate: StatementGate | null = null,
    /** Result masking; null = results pass untouched. */
    masking: RelayMasking | null = null,
    /**
     * The masking in force now (the same object while the policy's masking rules are unchanged): checked
     * at every ReadyForQuery, so a `policy apply` reaches the session at its next statement.
     */
    private readonly maskingNow: (() => RelayMasking | null) | null = null,
  ) {
    this.useMasking(masking);
    this.tracker = new StatementTracker((s) => this.onStatement(s));
  }

  /** Result masking as given when the session started or last changed (null: results pass untouched). */
  private masking: RelayMasking | null = null;
  private maskingGiven: RelayMasking | null = null;

  /** Switch to another masking (at a statement boundary): shapes made by the old rules are dropped. */
  private useMasking(masking: RelayMasking | null): void {
    this.maskingGiven = masking;
    this.masking = masking && masking.masker.active ? masking : null;
    this.shapes.clear();
    this.portalShapes.clear();
    this.activePortal = null;
    if (this.masking) {
      // Results must be seen message by message to be masked. (Once on, inspection stays on.)
      for (const t of [Backend.dataRow, Backend.copyOutResponse, Backend.copyData, Backend.noticeResponse, Backend.notificationResponse, Backend.parameterStatus]) {
        this.serverInspected[t] = 1;
      }
    }
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
    if (this.maskingNow && this.tracker.outstanding === 0 && !this.serverHeld) {
      // Nothing in flight: masking rules changed by a policy apply take effect before this request.
      const now = this.maskingNow();
      if (now !== this.maskingGiven) this.useMasking(now);
    }
    this.session.bytesIn += chunk.length;
    try {
      this.fromClient.push(chunk, this.clientSink);
    } catch (err) {
      this.out = [];
      this.protocolViolation(err, 'client');
      return;
    }
    this.flushToUpstream();
  };

  private flushToUpstream(): void {
    const out = this.out;
    if (out.length === 0 || this.done) return;
    const data = out.length === 1 ? out[0] : Buffer.concat(out);
    this.out = [];
    if (!this.upstream.write(data)) {
      this.client.pause();
      this.upstream.once('drain', () => {
        if (!this.held) this.client.resume();
      });
    }
  }

  private readonly onUpstreamData = (chunk: Buffer): void => {
    if (this.done) return;
    this.recordedInChunk = false;
    this.session.bytesOut += chunk.length;
    // Masking rules changed (policy apply) while requests were in flight: they switch at the next
    // ReadyForQuery, so this chunk is rebuilt message by message for the switch to take effect in it.
    const maskingChanged = this.maskingNow !== null && this.maskingNow() !== this.maskingGiven;
    // Rebuild the output message by message while masking or while some reply must be dropped; otherwise
    // the chunk goes out as it came (no copies on the hot path).
    this.serverOut = this.masking || maskingChanged || this.tracker.rewritePending || this.serverHeld ? this.rebuilt : null;
    try {
      this.fromServer.push(chunk, this.serverSink);
    } catch (err) {
      this.serverFailure(err);
      return;
    }
    this.emitServerOutput(chunk);
  };

  /**
   * Make what this output completes durable, then send it to the client: the chunk as it came (`whole`)
   * or the rebuilt messages.
   */
  private emitServerOutput(whole: Buffer | null): void {
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
    const out = this.serverOut;
    this.serverOut = null;
    if (out === null) {
      if (whole) this.writeClient(whole, this.fromServer.atBoundary);
    } else {
      const data = out.take();
      if (data) this.writeClient(data, this.fromServer.atBoundary && !this.serverHeld);
    }
  }

  private serverFailure(err: unknown): void {
    if (err instanceof MaskingRefusal || (err as Error)?.name === 'MalformedMessage' || (err as Error)?.name === 'MaskingStateError') {
      // Fail closed: a result that can't be masked is not delivered.
      this.log.warn('result could not be masked; ending the session', { detail: (err as Error).message });
      this.serverOut?.take(); // nothing of this chunk is delivered
      this.serverOut = null;
      this.finish('masking_failed', { severity: 'FATAL', code: SqlState.insufficientPrivilege, message: `gatehouse ended the session: ${(err as Error).message}` });
      return;
    }
    this.protocolViolation(err, 'upstream');
  }

  private writeClient(chunk: Buffer, boundary: boolean): void {
    this.clientAtBoundary = boundary;
    if (!this.client.write(chunk) && !this.done) {
      this.upstream.pause();
      this.client.once('drain', () => this.upstream.resume());
    }
  }

  private onStatement(s: TrackedStatement): void {
    this.recordedInChunk = true;
    if (this.masking) {
      const counts = this.masking.masker.takeCounts();
      let masked = 0;
      for (const k in counts) masked += counts[k];
      if (masked) {
        s.maskedValues = masked;
        s.maskedBy = counts;
      }
      if (this.preview) {
        s.resultPreview = previewJson(this.preview);
        this.preview = null;
      }
    }
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
    // A client that goes away withdraws what it was waiting for.
    if (this.held) {
      const { request } = this.held;
      this.held = null;
      request.withdraw();
    }
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

/** An ErrorResponse/NoticeResponse without one of its fields, lengths rebuilt. */
function withoutField(msg: Buffer, field: number): Buffer {
  const parts: Buffer[] = [msg.subarray(0, 5)];
  let pos = 5;
  while (pos < msg.length && msg[pos] !== 0) {
    const end = msg.indexOf(0, pos + 1);
    if (end < 0) return msg;
    if (msg[pos] !== field) parts.push(msg.subarray(pos, end + 1));
    pos = end + 1;
  }
  parts.push(Buffer.from([0]));
  const out = Buffer.concat(parts);
  out.writeInt32BE(out.length - 1, 1);
  return out;
}

/**
 * How the data of the COPY ... TO STDOUT being answered is written (text or CSV, delimiter, NULL string,
 * quoting, column list), read from the statement with the parser; text with defaults when unknown.
 */
function copyOptionsOf(sql: string | null): Parameters<ResultMasker['copyOutResponse']>[1] {
  const a = sql === null ? null : analyzeSql(sql);
  const copies = a?.ok ? a.statements.filter((s) => s.copy?.direction === 'to' && s.copy.target === 'stdio') : [];
  // Several COPY ... TO STDOUT in one Query: which one is answered is not known here, so the masker
  // treats every field of every one alike (the strictest column rule for any table; fail closed).
  if (copies.length !== 1) return { format: 'text' };
  const copy = copies[0].copy!;
  const { delimiter, null: nullString, quote, escape, columns, relation, header } = copy;
  return {
    format: copy.format === 'csv' ? 'csv' : 'text',
    ...(delimiter !== undefined ? { delimiter } : {}),
    ...(nullString !== undefined ? { null: nullString } : {}),
    ...(quote !== undefined ? { quote } : {}),
    ...(escape !== undefined ? { escape } : {}),
    ...(columns ? { columns } : {}),
    // Where column rules can apply: the table copied, or the tables a COPY (query) reads.
    ...(relation ? { table: relation } : { sources: copies[0].tablesRead }),
    ...(header ? { header: true } : {}),
  };
}

/** A result the masker must not let through (binary COPY while masking). */
class MaskingRefusal extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MaskingRefusal';
  }
}

/** The values of a (masked) DataRow as text for the preview; binary values are shown as such. */
function previewRow(msg: Buffer): (string | null)[] {
  const n = msg.readInt16BE(5);
  const row: (string | null)[] = [];
  let pos = 7;
  for (let i = 0; i < n; i++) {
    const len = msg.readInt32BE(pos);
    pos += 4;
    if (len < 0) {
      row.push(null);
      continue;
    }
    const v = msg.toString('utf8', pos, pos + Math.min(len, 200));
    // eslint-disable-next-line no-control-regex
    row.push(/[\u0000-\u0008\u000e-\u001f]/.test(v) ? `<${len} bytes>` : len > 200 ? v + '…' : v);
    pos += len;
  }
  return row;
}

function previewJson(p: { columns: string[]; rows: (string | null)[][] }): string {
  let json = JSON.stringify(p);
  while (json.length > PREVIEW_MAX_CHARS && p.rows.length > 0) {
    p.rows.pop();
    json = JSON.stringify({ ...p, truncated: true });
  }
  return json;
}

/** gateStatement's answer when the message was replaced by a refusal or is held. */
const HELD_OR_REFUSED = Symbol('held-or-refused');

function isFatal(buf: Buffer, start: number, end: number): boolean {
  // Severity is the first field ('S'); FATAL and PANIC end the backend.
  if (buf[start + 5] !== 0x53) return false;
  const sev = buf.toString('latin1', start + 6, Math.min(end, start + 11));
  return sev.startsWith('FATAL') || sev.startsWith('PANIC');
}
