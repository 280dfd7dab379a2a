/**
 * The one typed contract between every Gatehouse front end (console renderer, CLI, Electron main) and
 * the gateway. Each command has an input schema and an output schema; each event has a payload schema.
 * `src/gateway/api` implements it once; transports (Electron IPC, HTTP + WebSocket) only carry it.
 *
 * This folder imports nothing from the project. zod is the one library it uses, so that every transport
 * validates the same way.
 */
import { z } from 'zod';

/** Timestamps cross the contract as ISO-8601 strings (UTC). */
const Iso = z.string();

/** A resource name an operator types: connection, agent. Kept strict so it is safe in psql/ssh strings. */
export const NameSchema = z
  .string()
  .min(1)
  .max(63)
  .regex(/^[a-z0-9][a-z0-9_.-]*$/i, 'use letters, digits, ".", "_" or "-", starting with a letter or digit');

export const TagsSchema = z.array(z.string().min(1).max(40)).max(20);

export const ConnectionKind = z.enum(['postgres', 'ssh']);
export type ConnectionKind = z.infer<typeof ConnectionKind>;

/** Forwarding an ssh connection can allow: tcpip (ssh -L / -W / -R through the upstream host), agent (ssh -A), x11 (ssh -X / -Y). */
export const SshForwardingKind = z.enum(['tcpip', 'agent', 'x11']);
export type SshForwardingKind = z.infer<typeof SshForwardingKind>;

/** A registered upstream. The credential is write-only: it never appears in a DTO. */
export const ConnectionDto = z.object({
  id: z.string(),
  name: z.string(),
  kind: ConnectionKind,
  host: z.string(),
  port: z.number().int(),
  database: z.string(),
  username: z.string(),
  /** How the gateway talks TLS to the upstream: disable, prefer (try, fall back), require (no verify), verify-full. */
  tlsMode: z.enum(['disable', 'prefer', 'require', 'verify-full']),
  hasSecret: z.boolean(),
  tags: z.array(z.string()),
  /** ssh only: the forwarding allowed through this connection (none by default). */
  allowForwarding: z.array(SshForwardingKind).optional(),
  createdAt: Iso,
  updatedAt: Iso,
});
export type ConnectionDto = z.infer<typeof ConnectionDto>;

export const AgentDto = z.object({
  id: z.string(),
  name: z.string(),
  tags: z.array(z.string()),
  disabled: z.boolean(),
  createdAt: Iso,
});
export type AgentDto = z.infer<typeof AgentDto>;

export const GrantStatus = z.enum(['active', 'expired', 'revoked']);
export const GrantDto = z.object({
  id: z.string(),
  agentId: z.string(),
  agentName: z.string(),
  connectionId: z.string(),
  connectionName: z.string(),
  createdAt: Iso,
  expiresAt: Iso.nullable(),
  revokedAt: Iso.nullable(),
  status: GrantStatus,
});
export type GrantDto = z.infer<typeof GrantDto>;

export const SessionDto = z.object({
  id: z.string(),
  protocol: ConnectionKind,
  agentName: z.string(),
  connectionName: z.string(),
  clientAddress: z.string(),
  tls: z.boolean(),
  startedAt: Iso,
  endedAt: Iso.nullable(),
  bytesIn: z.number(),
  bytesOut: z.number(),
  /** Why the session ended: client_closed, upstream_closed, grant_revoked, gateway_stopped, error: ... */
  endReason: z.string().nullable(),
  statementCount: z.number(),
  /** When the retention setting removed the recording (statements, terminal recordings); null = kept. */
  recordingPurgedAt: Iso.nullable().optional(),
});
export type SessionDto = z.infer<typeof SessionDto>;

/** Settings changed at run time from the console or CLI (the rest are `gatehouse serve` options). */
export const SettingsDto = z.object({
  /** Recordings of sessions that ended more than this many days ago are removed; null keeps them forever. */
  recordingRetentionDays: z.number().int().nullable(),
  updatedAt: Iso.nullable(),
  updatedBy: z.string().nullable(),
});
export type SettingsDto = z.infer<typeof SettingsDto>;

/** What a retention run removed (or, as a dry run, would remove). */
export const PurgeResultDto = z.object({
  cutoff: Iso.nullable(),
  retentionDays: z.number().nullable(),
  sessions: z.number(),
  statements: z.number(),
  files: z.number(),
  dryRun: z.boolean(),
});

export const StatementDto = z.object({
  id: z.number(),
  sessionId: z.string(),
  seq: z.number(),
  /** simple = Query message; extended = Parse/Bind/Execute. */
  protocol: z.enum(['simple', 'extended']),
  sql: z.string(),
  paramCount: z.number(),
  startedAt: Iso,
  durationMs: z.number(),
  commandTag: z.string().nullable(),
  rows: z.number().nullable(),
  errorCode: z.string().nullable(),
  /** What policy did: block (never reached the database) or approve (held for a human); null = allowed. */
  policyAction: z.enum(['block', 'approve']).nullable(),
  policyRule: z.string().nullable(),
  approvalId: z.string().nullable(),
  /** Result values the masker replaced. */
  maskedValues: z.number().nullable(),
  /** maskedValues split by `<rule>:<detector>` (`<rule>:column` for column rules). */
  maskedBy: z.record(z.string(), z.number()).optional(),
  /** A bounded preview of the masked result (JSON: columns and the first rows). */
  resultPreview: z.string().nullable(),
});
export type StatementDto = z.infer<typeof StatementDto>;

export const ApprovalStatus = z.enum(['pending', 'approved', 'denied', 'timed_out', 'withdrawn', 'gateway_stopped']);

/** A statement or command held for a human decision. */
export const ApprovalDto = z.object({
  id: z.string(),
  sessionId: z.string(),
  agentName: z.string(),
  connectionName: z.string(),
  /** postgres, ssh ... */
  protocol: z.string(),
  /** The full statement (or command line) that is waiting. */
  statement: z.string(),
  rule: z.string(),
  message: z.string(),
  requestedAt: Iso,
  expiresAt: Iso,
  status: ApprovalStatus,
  decidedBy: z.string().nullable(),
  decidedAt: Iso.nullable(),
  reason: z.string().nullable(),
  scope: z.enum(['statement', 'session']).nullable(),
  scopeUntil: Iso.nullable(),
});
export type ApprovalDto = z.infer<typeof ApprovalDto>;

export const AuditEventDto = z.object({
  id: z.number(),
  at: Iso,
  /** e.g. auth.failed, auth.succeeded, access.denied, grant.added, grant.revoked, connection.added ... */
  kind: z.string(),
  /** Who did it: "admin", "cli", or "agent:<name>". */
  actor: z.string(),
  agentName: z.string().nullable(),
  connectionName: z.string().nullable(),
  sessionId: z.string().nullable(),
  clientAddress: z.string().nullable(),
  detail: z.record(z.string(), z.unknown()),
});
export type AuditEventDto = z.infer<typeof AuditEventDto>;

export const ServerInfoDto = z.object({
  version: z.string(),
  dataDir: z.string(),
  installationId: z.string(),
  listeners: z.object({
    postgres: z.object({ host: z.string(), port: z.number() }).nullable(),
    console: z.object({ host: z.string(), port: z.number() }).nullable(),
    ssh: z.object({ host: z.string(), port: z.number() }).nullable().optional(),
  }),
  tlsFingerprint: z.string().nullable(),
  /** The SSH listener's host key (`SHA256:...`, as `ssh-keygen -lf` prints it). */
  sshHostKeyFingerprint: z.string().nullable().optional(),
  /** The PostgreSQL listener's TLS certificate: subject, validity, and whether it is the operator's own (else generated). */
  tls: z.object({ subject: z.string(), validFrom: Iso, validTo: Iso, own: z.boolean() }).nullable().optional(),
});
export type ServerInfoDto = z.infer<typeof ServerInfoDto>;

export const ConnectionTestResult = z.object({
  ok: z.boolean(),
  /**
   * The stage that failed (or "ok"): dns, tcp, tls, auth, query. For ssh connections tls is the SSH
   * handshake with the host key checked against the pin, and query runs `true`.
   */
  stage: z.enum(['dns', 'tcp', 'tls', 'auth', 'query', 'ok']),
  message: z.string(),
  serverVersion: z.string().nullable(),
  elapsedMs: z.number(),
});
export type ConnectionTestResult = z.infer<typeof ConnectionTestResult>;

export const ReviewEvidenceDto = z.object({
  sessions: z.number(),
  statements: z.number(),
  statementsByCommand: z.record(z.string(), z.number()),
  denials: z.number(),
  lastUsedAt: Iso.nullable(),
  unused: z.boolean(),
  /** Statements and SSH commands policy blocked. */
  blocks: z.number().optional(),
  /** Values the masker replaced in results and SSH output. */
  maskedValues: z.number().optional(),
  /** maskedValues by detector (email, payment_card ...) or `column:<rule>` for column rules. */
  maskedByDetector: z.record(z.string(), z.number()).optional(),
  /** SSH channels by kind (shell, exec, sftp, scp ...). */
  channelsByKind: z.record(z.string(), z.number()).optional(),
  /** Requests held for approval (newest first, at most 50) and who decided them; `approvalCount` counts all. */
  approvals: z
    .array(z.object({ id: z.string(), statement: z.string(), rule: z.string(), status: z.string(), decidedBy: z.string().nullable(), decidedAt: Iso.nullable(), reason: z.string().nullable() }))
    .optional(),
  approvalCount: z.number().optional(),
  /** Tables the agent's statements read and wrote (schema-qualified as written); `reviews.get` only. */
  tablesRead: z.array(z.string()).optional(),
  tablesWritten: z.array(z.string()).optional(),
  /** True when the agent sent more distinct statements than were parsed for the tables (the most used 500). */
  tablesPartial: z.boolean().optional(),
});

export const ReviewItemDto = z.object({
  grantId: z.string(),
  agentName: z.string(),
  connectionName: z.string(),
  grantStatus: GrantStatus.nullable(),
  grantExpiresAt: Iso.nullable(),
  evidence: ReviewEvidenceDto,
  decision: z.enum(['keep', 'revoke', 'expiry']).nullable(),
  newExpiresAt: Iso.nullable(),
  comment: z.string().nullable(),
  decidedBy: z.string().nullable(),
  decidedAt: Iso.nullable(),
});
export type ReviewItemDto = z.infer<typeof ReviewItemDto>;

export const ReviewDto = z.object({
  id: z.string(),
  name: z.string(),
  periodStart: Iso,
  periodEnd: Iso,
  scope: z.object({ agent: z.string().optional(), connection: z.string().optional(), agentTag: z.string().optional(), connectionTag: z.string().optional() }),
  createdAt: Iso,
  createdBy: z.string(),
  completedAt: Iso.nullable(),
  completedBy: z.string().nullable(),
  /** Signature (Ed25519, base64) over `digest`, made at completion. */
  digest: z.string().nullable(),
  signature: z.string().nullable(),
  publicKey: z.string().nullable(),
  /** Hex SHA-256 of the public key's DER (as evidence packs name the key). */
  keyFingerprint: z.string().nullable().optional(),
  progress: z.object({ decided: z.number(), total: z.number() }),
  /** True when the items' evidence is the one signed at completion (frozen), not computed now. */
  evidenceAsSigned: z.boolean().optional(),
});
export type ReviewDto = z.infer<typeof ReviewDto>;

/** One applied version of the policy file (version 0 = none applied yet: the empty policy). */
export const PolicyVersionDto = z.object({
  version: z.number(),
  /** Hex SHA-256 of the YAML text. */
  sha256: z.string(),
  appliedAt: Iso.nullable(),
  appliedBy: z.string().nullable(),
});
export type PolicyVersionDto = z.infer<typeof PolicyVersionDto>;

/** What policy would do with a SQL string for an agent on a connection (no database access). */
export const PolicyCheckResult = z.object({
  action: z.enum(['allow', 'approve', 'block']),
  rule: z.string().nullable(),
  message: z.string(),
  timeoutMs: z.number(),
  /** The parser's error, when the SQL did not parse. */
  parseError: z.string().nullable(),
  statements: z.array(
    z.object({
      kind: z.string(),
      summary: z.string(),
      kinds: z.array(z.string()),
      tablesRead: z.array(z.string()),
      tablesWritten: z.array(z.string()),
      functions: z.array(z.string()),
      conditions: z.array(z.string()),
    }),
  ),
  policyVersion: z.number(),
});
export type PolicyCheckResult = z.infer<typeof PolicyCheckResult>;

/** Progress of an evidence export: the phase (file being written) and how far it is. */
export const EvidenceProgressDto = z.object({ exportId: z.string(), phase: z.string(), done: z.number(), total: z.number() });
export type EvidenceProgressDto = z.infer<typeof EvidenceProgressDto>;

/** A written evidence pack: where it is and what its signed manifest says. */
export const EvidenceExportResult = z.object({
  exportId: z.string(),
  path: z.string(),
  bytes: z.number(),
  /** SHA-256 (hex) of the pack's manifest.json, which manifest.sig signs. */
  manifestSha256: z.string(),
  installationId: z.string(),
  publicKeyFingerprint: z.string(),
  period: z.object({ start: Iso, end: Iso }),
  scope: z.object({ agents: z.array(z.string()), connections: z.array(z.string()) }),
  counts: z.record(z.string(), z.number()),
  files: z.number(),
  /** Sections present but empty because this installation lacks the feature, and why. */
  emptySections: z.record(z.string(), z.string()),
});
export type EvidenceExportResult = z.infer<typeof EvidenceExportResult>;

/** One recorded channel of an SSH session (shell, exec, sftp ...), from the recordings index. */
export const SshChannelDto = z.object({
  channelId: z.number(),
  kind: z.enum(['shell', 'exec', 'sftp', 'scp', 'subsystem']),
  command: z.string().nullable(),
  startedAt: Iso,
  endedAt: Iso.nullable(),
  exitStatus: z.number().nullable(),
  exitSignal: z.string().nullable(),
  bytesIn: z.number(),
  bytesOut: z.number(),
  endReason: z.string().nullable(),
  truncated: z.boolean(),
  /** Whether it has a terminal recording (asciicast) to play; sftp channels have file operations only. */
  playable: z.boolean(),
});
export type SshChannelDto = z.infer<typeof SshChannelDto>;

/** A channel as `sessions.get` lists it: its recording's path in the data dir and the values masked in its output. */
export const SshSessionChannelDto = SshChannelDto.extend({
  /** The asciicast file relative to the data dir (`recordings/<session>/<n>.cast`), null for sftp/scp. */
  recording: z.string().nullable(),
  masked: z.number(),
});
export type SshSessionChannelDto = z.infer<typeof SshSessionChannelDto>;

/** A file operation in an sftp or scp channel. */
export const SshFileOpDto = z.object({
  channelId: z.number(),
  at: Iso,
  /** read, write, remove, rename, mkdir, rmdir ... (sftp); upload, download (scp). */
  op: z.string(),
  path: z.string(),
  target: z.string().nullable(),
  direction: z.enum(['upload', 'download']).nullable(),
  bytes: z.number(),
});
export type SshFileOpDto = z.infer<typeof SshFileOpDto>;

/** A terminal state to seek from: writing `data` into a reset cols x rows terminal restores it (docs/console.md). */
export const ReplaySnapshotDto = z.object({ index: z.number(), t: z.number(), cols: z.number(), rows: z.number(), data: z.string() });
export type ReplaySnapshotDto = z.infer<typeof ReplaySnapshotDto>;

/** A page of an SSH channel's recording for the player: output and resize events, snapshots among them. */
export const SshRecordingDto = z.object({
  channels: z.array(SshChannelDto),
  /** The channel this page is from; null when the session has no playable channel. */
  channel: z.number().nullable(),
  header: z.object({ width: z.number(), height: z.number(), startedAt: Iso, command: z.string().nullable() }).nullable(),
  /** Seconds from the first to the last event of the whole recording. */
  duration: z.number(),
  eventCount: z.number(),
  /** Index of this page's first event; `nextIndex` continues (null: this is the last page). */
  fromIndex: z.number(),
  nextIndex: z.number().nullable(),
  /** `[seconds, "o" | "r", data]` as in the asciicast file (typed input is not sent). */
  events: z.array(z.tuple([z.number(), z.enum(['o', 'i', 'r']), z.string()])),
  /** Snapshots whose index falls in this page. */
  snapshots: z.array(ReplaySnapshotDto),
});
export type SshRecordingDto = z.infer<typeof SshRecordingDto>;

const Empty = z.object({}).strict();

/** Every command: name -> { input, output }. Names are `noun.verb`. */
export const commands = {
  'server.info': { input: Empty, output: ServerInfoDto },
  /** Run-time settings: recording retention. */
  'settings.get': { input: Empty, output: SettingsDto },
  /** Change settings; audited as settings.changed with before and after. */
  'settings.update': {
    input: z.object({ recordingRetentionDays: z.number().int().min(1).max(36_500).nullable() }).strict(),
    output: SettingsDto,
  },
  /** Remove recordings past the retention now (the gateway also does it hourly); dryRun only counts. */
  'recordings.purge': { input: z.object({ dryRun: z.boolean().default(false) }).strict(), output: PurgeResultDto },

  'connections.list': { input: Empty, output: z.array(ConnectionDto) },
  'connections.add': {
    input: z
      .object({
        name: NameSchema,
        kind: ConnectionKind.default('postgres'),
        host: z.string().min(1).max(255),
        port: z.number().int().min(1).max(65535).default(5432),
        /** Required for postgres; ssh connections have none. */
        database: z.string().min(1).max(63).optional(),
        username: z.string().min(1).max(63),
        /** The upstream credential. Write-only: stored encrypted, never returned. */
        password: z.string().max(1024).optional(),
        /** ssh only: an unencrypted OpenSSH/PEM private key for the upstream login (instead of a password). Write-only. */
        privateKey: z.string().max(16384).optional(),
        tlsMode: z.enum(['disable', 'prefer', 'require', 'verify-full']).default('prefer'),
        tags: TagsSchema.default([]),
        /** ssh only: forwarding to allow (default none). */
        allowForwarding: z.array(SshForwardingKind).optional(),
      })
      .strict(),
    output: ConnectionDto,
  },
  'connections.update': {
    input: z
      .object({
        name: NameSchema,
        host: z.string().min(1).max(255).optional(),
        port: z.number().int().min(1).max(65535).optional(),
        database: z.string().min(1).max(63).optional(),
        username: z.string().min(1).max(63).optional(),
        password: z.string().max(1024).optional(),
        tlsMode: z.enum(['disable', 'prefer', 'require', 'verify-full']).optional(),
        tags: TagsSchema.optional(),
        /** ssh only: replaces the forwarding allowed ([] = none). */
        allowForwarding: z.array(SshForwardingKind).optional(),
      })
      .strict(),
    output: ConnectionDto,
  },
  'connections.remove': { input: z.object({ name: z.string() }).strict(), output: z.object({ removed: z.boolean() }) },
  'connections.test': { input: z.object({ name: z.string() }).strict(), output: ConnectionTestResult },

  'agents.list': { input: Empty, output: z.array(AgentDto) },
  'agents.add': {
    input: z
      .object({
        name: NameSchema,
        tags: TagsSchema.default([]),
        /** An OpenSSH public key line (`ssh-ed25519 AAAA... comment`): the agent logs in to the SSH listener with it. */
        sshPublicKey: z.string().max(16384).optional(),
      })
      .strict(),
    /** The secret is returned exactly once, here. Only a SCRAM verifier is kept. */
    output: z.object({ agent: AgentDto, secret: z.string() }),
  },
  'agents.remove': { input: z.object({ name: z.string() }).strict(), output: z.object({ removed: z.boolean() }) },
  /** Change an agent's tags, or disable it (refused at login; its open sessions are ended) or enable it again. */
  'agents.update': {
    input: z.object({ name: z.string(), tags: TagsSchema.optional(), disabled: z.boolean().optional() }).strict(),
    output: AgentDto,
  },
  /** Give an agent a new secret, returned once; the old one stops working and the agent's open sessions end. */
  'agents.rotate': { input: z.object({ name: z.string() }).strict(), output: z.object({ agent: AgentDto, secret: z.string(), sessionsClosed: z.number() }) },

  'grants.list': {
    input: z.object({ agent: z.string().optional(), connection: z.string().optional(), includeInactive: z.boolean().default(false) }).strict(),
    output: z.array(GrantDto),
  },
  'grants.add': {
    input: z
      .object({
        agent: z.string(),
        connection: z.string(),
        /** Lifetime in seconds from now; omitted = no expiry. */
        expiresInSeconds: z.number().int().positive().optional(),
      })
      .strict(),
    output: GrantDto,
  },
  'grants.revoke': {
    input: z.union([
      z.object({ id: z.string() }).strict(),
      z.object({ agent: z.string(), connection: z.string() }).strict(),
    ]),
    output: z.object({ revoked: z.number(), sessionsClosed: z.number() }),
  },

  'sessions.list': {
    input: z
      .object({
        limit: z.number().int().min(1).max(1000).default(100),
        /** Keyset paging: sessions that started before this session id's start. */
        before: z.string().optional(),
        agent: z.string().optional(),
        connection: z.string().optional(),
        activeOnly: z.boolean().default(false),
        /** Only sessions with a statement that policy blocked, held for approval, had values masked, or failed. */
        decision: z.enum(['blocked', 'held', 'masked', 'errored']).optional(),
        /** Only sessions whose client address or any statement's SQL contains this text (case-insensitive). */
        text: z.string().min(1).max(200).optional(),
        /** Only sessions that started at or after this time (ISO-8601). */
        from: z.string().datetime({ offset: true }).optional(),
        /** Only sessions that started before this time (ISO-8601). */
        to: z.string().datetime({ offset: true }).optional(),
      })
      .strict(),
    output: z.object({ items: z.array(SessionDto), total: z.number() }),
  },
  'sessions.get': {
    input: z
      .object({
        id: z.string(),
        /** At most this many statements (the first ones); the rest come from sessions.statements. Default: all. */
        statementLimit: z.number().int().min(1).max(100_000).optional(),
      })
      .strict(),
    output: z.object({
      session: SessionDto,
      statements: z.array(StatementDto),
      /** True when statementLimit cut the list: page on with sessions.statements after the last seq. */
      moreStatements: z.boolean().optional(),
      /** SSH sessions: their channels and sftp/scp file operations. */
      ssh: z.object({ channels: z.array(SshSessionChannelDto), fileOps: z.array(SshFileOpDto) }).optional(),
    }),
  },

  /**
   * Read an SSH session's channel recording for the console player (the first playable channel unless
   * `channel` names one), a page at a time from `fromIndex`. Never a file path: the gateway finds the file.
   */
  'ssh.recording.get': {
    input: z
      .object({
        sessionId: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'not a session id'),
        channel: z.number().int().min(1).max(1_000_000).optional(),
        fromIndex: z.number().int().min(0).default(0),
      })
      .strict(),
    output: SshRecordingDto,
  },

  'audit.list': {
    input: z
      .object({
        limit: z.number().int().min(1).max(1000).default(100),
        kind: z.string().optional(),
        agent: z.string().optional(),
        /** Only events after this id (paging in ascending order). */
        afterId: z.number().int().min(0).optional(),
        /** Only events at or after this time (ISO-8601). */
        since: z.string().datetime({ offset: true }).optional(),
        order: z.enum(['asc', 'desc']).default('desc'),
      })
      .strict(),
    output: z.array(AuditEventDto),
  },
  'reviews.list': { input: Empty, output: z.array(ReviewDto) },
  'reviews.start': {
    input: z
      .object({
        name: z.string().min(1).max(200),
        periodStart: z.string().datetime({ offset: true }),
        periodEnd: z.string().datetime({ offset: true }),
        agent: z.string().optional(),
        connection: z.string().optional(),
        /** Only agents / connections carrying this tag. */
        agentTag: z.string().min(1).optional(),
        connectionTag: z.string().min(1).optional(),
      })
      .strict(),
    output: ReviewDto,
  },
  'reviews.get': { input: z.object({ id: z.string() }).strict(), output: z.object({ review: ReviewDto, items: z.array(ReviewItemDto) }) },
  'reviews.decide': {
    input: z
      .object({
        id: z.string(),
        grantId: z.string(),
        decision: z.enum(['keep', 'revoke', 'expiry']),
        /** For `expiry`: the new lifetime from now. */
        expiresInSeconds: z.number().int().positive().optional(),
        comment: z.string().max(2000).optional(),
      })
      .strict(),
    output: ReviewItemDto,
  },
  'reviews.complete': { input: z.object({ id: z.string() }).strict(), output: ReviewDto },

  'approvals.list': {
    input: z
      .object({
        /** Only requests in this state (default: pending only). */
        status: ApprovalStatus.optional(),
        all: z.boolean().default(false),
        limit: z.number().int().min(1).max(1000).default(200),
      })
      .strict(),
    output: z.array(ApprovalDto),
  },
  'approvals.decide': {
    input: z
      .object({
        id: z.string().min(1),
        decision: z.enum(['approve', 'deny']),
        reason: z.string().max(2000).optional(),
        /** Approve: also let this session run statements matching the same rule for this many minutes. */
        sessionMinutes: z.number().int().min(1).max(24 * 60).optional(),
      })
      .strict(),
    output: ApprovalDto,
  },

  /** Walk the tamper-evident audit chain and its signed checkpoints. */
  /** One page of a session's statements in order, after sequence number afterSeq (huge sessions load in pages). */
  'sessions.statements': {
    input: z.object({ id: z.string(), afterSeq: z.number().int().min(0).default(0), limit: z.number().int().min(1).max(10_000).default(5000) }).strict(),
    output: z.object({ statements: z.array(StatementDto), more: z.boolean() }),
  },
  'audit.verify': {
    input: Empty,
    output: z.object({
      ok: z.boolean(),
      events: z.number(),
      checkpoints: z.number(),
      problem: z.string().nullable(),
      brokenAt: z.number().nullable(),
    }),
  },

  /**
   * Write an evidence pack (docs/evidence.md) for a period and scope into the data dir's exports/ folder,
   * emitting `evidence.progress` while it streams.
   */
  'evidence.export': {
    input: z
      .object({
        periodStart: z.string().datetime({ offset: true }),
        periodEnd: z.string().datetime({ offset: true }),
        agents: z.array(z.string()).max(200).default([]),
        connections: z.array(z.string()).max(200).default([]),
        /** Lets a caller match `evidence.progress` events to its request; generated when omitted. */
        exportId: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/).optional(),
      })
      .strict(),
    output: EvidenceExportResult,
  },

  /** The policy file in force (docs/policy.md): its YAML text and version. */
  'policy.get': { input: Empty, output: PolicyVersionDto.extend({ yaml: z.string() }) },
  /** Validate and apply a policy file; invalid files fail with issues naming line, column and field. */
  'policy.apply': {
    input: z.object({ yaml: z.string().max(1_000_000) }).strict(),
    output: PolicyVersionDto,
  },
  /** Decide a SQL string for an agent on a connection under the policy in force, without running it. */
  'policy.check': {
    input: z.object({ connection: z.string(), agent: z.string(), sql: z.string().max(1_000_000) }).strict(),
    output: PolicyCheckResult,
  },
  /** Applied policy versions, newest first, each with the lines it added and removed against the one before. */
  'policy.history': {
    input: z.object({ limit: z.number().int().min(1).max(1000).default(100) }).strict(),
    output: z.array(PolicyVersionDto.extend({ linesAdded: z.number(), linesRemoved: z.number() })),
  },
  /** The unified diff between two applied versions (default: the one in force against its predecessor). */
  'policy.diff': {
    input: z.object({ from: z.number().int().min(0).optional(), to: z.number().int().min(1).optional() }).strict(),
    output: z.object({ from: z.number(), to: z.number(), patch: z.string(), linesAdded: z.number(), linesRemoved: z.number(), truncated: z.boolean() }),
  },
  /** Check a policy file without applying it (the console validates as you type); empty `errors` = valid. */
  'policy.validate': {
    input: z.object({ yaml: z.string().max(1_000_000) }).strict(),
    output: z.object({ errors: z.array(z.object({ line: z.number(), column: z.number(), path: z.string(), message: z.string() })) }),
  },
} as const;

export type CommandName = keyof typeof commands;
export type CommandInput<C extends CommandName> = z.input<(typeof commands)[C]['input']>;
export type CommandParsedInput<C extends CommandName> = z.output<(typeof commands)[C]['input']>;
export type CommandOutput<C extends CommandName> = z.output<(typeof commands)[C]['output']>;

/** Every event the gateway pushes to subscribers (console live views, CLI `--follow`). */
export const events = {
  'session.started': SessionDto,
  'session.updated': SessionDto,
  'session.ended': SessionDto,
  'statement.recorded': StatementDto,
  'audit.appended': AuditEventDto,
  'grant.changed': GrantDto,
  'approval.requested': ApprovalDto,
  'approval.decided': ApprovalDto,
  /** A new policy version was applied; the gateway reloads it for the next statement of every session. */
  'policy.changed': PolicyVersionDto,
  /** A setting was changed (recording retention). */
  'settings.changed': SettingsDto,
  /** An evidence export is under way. */
  'evidence.progress': EvidenceProgressDto,
  /** A review was started, an entitlement decided (`item`), or the review completed. */
  'review.changed': z.object({ review: ReviewDto, item: ReviewItemDto.nullable() }),
} as const;

export type EventName = keyof typeof events;
export type EventPayload<E extends EventName> = z.output<(typeof events)[E]>;

/** Error codes a command can fail with; transports map them (HTTP status, IPC rejection). */
export const ErrorCode = {
  invalid: 'invalid',
  notFound: 'not_found',
  conflict: 'conflict',
  unauthorized: 'unauthorized',
  unavailable: 'unavailable',
  internal: 'internal',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** The serialised form of a failed command, identical over every transport. */
export interface ContractErrorBody {
  code: ErrorCode;
  message: string;
  /** For `invalid`: which field and why, e.g. [{ path: "port", message: "..." }]. */
  issues?: { path: string; message: string }[];
}

/** A client of the contract, whatever carries it. The renderer, CLI and tests all hold one of these. */
export interface ContractClient {
  call<C extends CommandName>(command: C, input: CommandInput<C>): Promise<CommandOutput<C>>;
  /** Subscribe to an event; returns an unsubscribe function. */
  on<E extends EventName>(event: E, listener: (payload: EventPayload<E>) => void): () => void;
  /**
   * Transports whose event stream can start late or drop (WebSocket) call this when it is (re)connected;
   * live views reload then, so nothing that happened before is missed.
   */
  onResync?(listener: () => void): () => void;
  close(): void;
}

/** Thrown by contract clients when a command fails; carries the body the server sent. */
export class ContractError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly issues?: { path: string; message: string }[],
  ) {
    super(message);
    this.name = 'ContractError';
  }

  /** The wire form of this error. */
  toBody(): ContractErrorBody {
    return { code: this.code, message: this.message, ...(this.issues ? { issues: this.issues } : {}) };
  }

  /** Rebuild an error from its wire form. */
  static fromBody(body: ContractErrorBody): ContractError {
    return new ContractError(body.code, body.message, body.issues);
  }
}
