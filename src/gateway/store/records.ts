/**
 * Row shapes of the Gatehouse store. Times are epoch milliseconds (UTC). Secrets appear here only in
 * their at-rest form: `secretEnc` is sealed by identity/secret-box, `secretVerifier` is a SCRAM-SHA-256
 * verifier (PostgreSQL's `SCRAM-SHA-256$<iter>:<salt>$<StoredKey>:<ServerKey>` format).
 */

export type TlsMode = 'disable' | 'prefer' | 'require' | 'verify-full';

export interface ConnectionRecord {
  id: string;
  name: string;
  kind: 'postgres' | 'ssh';
  host: string;
  port: number;
  database: string;
  username: string;
  tlsMode: TlsMode;
  /** AES-256-GCM sealed upstream password, or null (trust auth). */
  secretEnc: Buffer | null;
  tags: string[];
  createdAt: number;
  updatedAt: number;
}

export interface AgentRecord {
  id: string;
  name: string;
  secretVerifier: string;
  tags: string[];
  disabled: boolean;
  createdAt: number;
}

export interface GrantRecord {
  id: string;
  agentId: string;
  connectionId: string;
  createdAt: number;
  expiresAt: number | null;
  revokedAt: number | null;
  createdBy: string;
}

/** A grant joined with the names it refers to (for listings). */
export interface GrantView extends GrantRecord {
  agentName: string;
  connectionName: string;
}

export interface SessionRecord {
  id: string;
  protocol: 'postgres' | 'ssh';
  agentId: string;
  agentName: string;
  connectionId: string;
  connectionName: string;
  clientAddress: string;
  tls: boolean;
  startedAt: number;
  endedAt: number | null;
  bytesIn: number;
  bytesOut: number;
  endReason: string | null;
  statementCount: number;
  /** When the retention setting removed this session's recording (statements, .cast files). */
  recordingPurgedAt?: number;
}

export interface StatementRecord {
  /** Assigned by the store on insert. */
  id?: number;
  sessionId: string;
  /** 1-based order within the session. */
  seq: number;
  protocol: 'simple' | 'extended';
  sql: string;
  paramCount: number;
  startedAt: number;
  durationMs: number;
  commandTag: string | null;
  rows: number | null;
  /** SQLSTATE; 'skipped' when the server skipped it after an earlier error in the same pipeline. */
  errorCode: string | null;
  /** What policy did: 'block' (never reached the database) or 'approve' (held for a human). */
  policyAction?: 'block' | 'approve' | null;
  /** The rule that blocked or held it. */
  policyRule?: string | null;
  /** The approval request it waited on. */
  approvalId?: string | null;
  /** Values the result masker replaced. */
  maskedValues?: number | null;
  /** A bounded preview of the result as the client saw it (masked). */
  resultPreview?: string | null;
  /** maskedValues split by `<rule>:<detector>` (or `<rule>:<column>` for column rules). */
  maskedBy?: Record<string, number>;
}

export type ApprovalStatus = 'pending' | 'approved' | 'denied' | 'timed_out' | 'withdrawn' | 'gateway_stopped';

/** A statement (or command) held for a human decision. */
export interface ApprovalRecord {
  id: string;
  sessionId: string;
  agentName: string;
  connectionName: string;
  protocol: string;
  statement: string;
  rule: string;
  message: string;
  requestedAt: number;
  expiresAt: number;
  status: ApprovalStatus;
  decidedBy: string | null;
  decidedAt: number | null;
  reason: string | null;
  /** 'statement', or 'session' (approved for the rest of the session until scopeUntil). */
  scope: 'statement' | 'session' | null;
  scopeUntil: number | null;
}

export interface AuditRecord {
  id?: number;
  at: number;
  kind: string;
  actor: string;
  agentName: string | null;
  connectionName: string | null;
  sessionId: string | null;
  clientAddress: string | null;
  detail: Record<string, unknown>;
}

export interface SessionListQuery {
  limit: number;
  /** Keyset paging: only sessions ordered after this id in (startedAt desc, id desc). */
  before?: string;
  agentName?: string;
  connectionName?: string;
  activeOnly?: boolean;
  /** Only sessions with a statement blocked / held / masked / errored. */
  decision?: 'blocked' | 'held' | 'masked' | 'errored';
  /** Only sessions whose client address or a statement's SQL contains this (case-insensitive). */
  text?: string;
  /** Only sessions that started at or after this time (epoch ms). */
  from?: number;
  /** Only sessions that started before this time (epoch ms). */
  to?: number;
}

export interface SessionEnd {
  endedAt: number;
  bytesIn: number;
  bytesOut: number;
  endReason: string;
  statementCount: number;
}

export interface ReviewCampaignRecord {
  id: string;
  name: string;
  periodStart: number;
  periodEnd: number;
  scope: { agent?: string; connection?: string; agentTag?: string; connectionTag?: string };
  createdAt: number;
  createdBy: string;
  completedAt: number | null;
  completedBy: string | null;
  /** SHA-256 of the campaign and its decisions (canonical JSON), signed at completion. */
  digest: string | null;
  signature: string | null;
  publicKey: string | null;
  /** The canonical JSON the digest was computed over (schema 13; null before completion or for older reviews). */
  signedBody?: string | null;
}

export type ReviewDecision = 'keep' | 'revoke' | 'expiry';

export interface ReviewItemRecord {
  campaignId: string;
  grantId: string;
  agentId: string;
  agentName: string;
  connectionId: string;
  connectionName: string;
  decision: ReviewDecision | null;
  newExpiresAt: number | null;
  comment: string | null;
  decidedBy: string | null;
  decidedAt: number | null;
}

/** What an entitlement was used for during a review period. */
export interface EntitlementEvidence {
  sessions: number;
  statements: number;
  /** Statements by command (first word of the command tag: SELECT, INSERT, ...; ERROR for failed ones). */
  statementsByCommand: Record<string, number>;
  /** Refusals of this agent on this connection (auth failures, access denials) in the period. */
  denials: number;
  /** Start of the newest session in the period, or null. */
  lastUsedAt: number | null;
  /** Statements and SSH commands policy blocked (they never reached the upstream). */
  blocks: number;
  /** Result values (and SSH output values) the masker replaced. */
  maskedValues: number;
  /** maskedValues by detector (e.g. email, payment_card) or, for column rules, `column:<name>`. */
  maskedByDetector: Record<string, number>;
  /** SSH channels by kind (shell, exec, sftp, scp ...). */
  channelsByKind: Record<string, number>;
  /** Approval requests of this agent on this connection in the period (newest first, at most 50), and how many in all. */
  approvals: { id: string; statement: string; rule: string; status: string; decidedBy: string | null; decidedAt: number | null; reason: string | null }[];
  approvalCount: number;
}
