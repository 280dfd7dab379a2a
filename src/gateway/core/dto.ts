import type { AgentDto, ApprovalDto, AuditEventDto, ConnectionDto, GrantDto, SessionDto, SshChannelDto, SshFileOpDto, SshSessionChannelDto, StatementDto } from '../../shared/contract';
import type { SshFileOpRecord, SshRecordingRecord } from '../store/ssh-repo';
import type { AgentRecord, ApprovalRecord, AuditRecord, ConnectionRecord, GrantView, SessionRecord, StatementRecord } from '../store/records';

/** Record -> contract DTO mappers: the one place where stored rows become what clients see. */

const iso = (ms: number) => new Date(ms).toISOString();
const isoOrNull = (ms: number | null) => (ms === null ? null : iso(ms));

/** A connection as clients see it: never the sealed secret, only whether one is set. */
export function connectionToDto(c: ConnectionRecord): ConnectionDto {
  return {
    id: c.id,
    name: c.name,
    kind: c.kind,
    host: c.host,
    port: c.port,
    database: c.database,
    username: c.username,
    tlsMode: c.tlsMode,
    hasSecret: c.secretEnc !== null,
    tags: c.tags,
    createdAt: iso(c.createdAt),
    updatedAt: iso(c.updatedAt),
  };
}

/** An agent as clients see it: never its verifier. */
export function agentToDto(a: AgentRecord): AgentDto {
  return { id: a.id, name: a.name, tags: a.tags, disabled: a.disabled, createdAt: iso(a.createdAt) };
}

export function grantToDto(g: GrantView, now: number): GrantDto {
  const status = g.revokedAt !== null ? 'revoked' : g.expiresAt !== null && g.expiresAt <= now ? 'expired' : 'active';
  return {
    id: g.id,
    agentId: g.agentId,
    agentName: g.agentName,
    connectionId: g.connectionId,
    connectionName: g.connectionName,
    createdAt: iso(g.createdAt),
    expiresAt: isoOrNull(g.expiresAt),
    revokedAt: isoOrNull(g.revokedAt),
    status,
  };
}

export function sessionToDto(r: SessionRecord): SessionDto {
  return {
    id: r.id,
    protocol: r.protocol,
    agentName: r.agentName,
    connectionName: r.connectionName,
    clientAddress: r.clientAddress,
    tls: r.tls,
    startedAt: iso(r.startedAt),
    endedAt: isoOrNull(r.endedAt),
    bytesIn: r.bytesIn,
    bytesOut: r.bytesOut,
    endReason: r.endReason,
    statementCount: r.statementCount,
    recordingPurgedAt: r.recordingPurgedAt ? new Date(r.recordingPurgedAt).toISOString() : null,
  };
}

export function statementToDto(s: StatementRecord): StatementDto {
  return {
    id: s.id ?? 0,
    sessionId: s.sessionId,
    seq: s.seq,
    protocol: s.protocol,
    sql: s.sql,
    paramCount: s.paramCount,
    startedAt: iso(s.startedAt),
    durationMs: s.durationMs,
    commandTag: s.commandTag,
    rows: s.rows,
    errorCode: s.errorCode,
    policyAction: s.policyAction ?? null,
    policyRule: s.policyRule ?? null,
    approvalId: s.approvalId ?? null,
    maskedValues: s.maskedValues ?? null,
    ...(s.maskedBy ? { maskedBy: s.maskedBy } : {}),
    resultPreview: s.resultPreview ?? null,
  };
}

export function approvalToDto(a: ApprovalRecord): ApprovalDto {
  return {
    id: a.id,
    sessionId: a.sessionId,
    agentName: a.agentName,
    connectionName: a.connectionName,
    protocol: a.protocol,
    statement: a.statement,
    rule: a.rule,
    message: a.message,
    requestedAt: iso(a.requestedAt),
    expiresAt: iso(a.expiresAt),
    status: a.status,
    decidedBy: a.decidedBy,
    decidedAt: a.decidedAt === null ? null : iso(a.decidedAt),
    reason: a.reason,
    scope: a.scope,
    scopeUntil: a.scopeUntil === null ? null : iso(a.scopeUntil),
  };
}

export function auditToDto(rec: AuditRecord): AuditEventDto {
  return {
    id: rec.id ?? 0,
    at: iso(rec.at),
    kind: rec.kind,
    actor: rec.actor,
    agentName: rec.agentName,
    connectionName: rec.connectionName,
    sessionId: rec.sessionId,
    clientAddress: rec.clientAddress,
    detail: rec.detail,
  };
}

/** An SSH channel as the player lists it (`ssh.recording.get`): no path to its recording. */
export function sshChannelToDto(r: SshRecordingRecord): SshChannelDto {
  return {
    channelId: r.channelId,
    kind: r.kind,
    command: r.command,
    startedAt: iso(r.startedAt),
    endedAt: isoOrNull(r.endedAt),
    exitStatus: r.exitStatus,
    exitSignal: r.exitSignal,
    bytesIn: r.bytesIn,
    bytesOut: r.bytesOut,
    endReason: r.endReason,
    truncated: r.truncated,
    playable: r.file !== null,
  };
}

/** An SSH channel as `sessions.get` lists it (with its recording's path relative to the data dir). */
export function sshSessionChannelToDto(r: SshRecordingRecord): SshSessionChannelDto {
  return { ...sshChannelToDto(r), recording: r.file, masked: r.masked ?? 0 };
}

export function sshFileOpToDto(o: SshFileOpRecord): SshFileOpDto {
  return { channelId: o.channelId, at: iso(o.at), op: o.op, path: o.path, target: o.target, direction: o.direction, bytes: o.bytes };
}
