import type Database from 'better-sqlite3';
import { auditEventHash, GENESIS_HASH } from './audit-chain';

/** One schema step. Migrations only ever append; a released one is never edited. */
export interface Migration {
  version: number;
  name: string;
  up(db: Database.Database): void;
}

export const migrations: Migration[] = [
  {
    version: 1,
    name: 'connections, agents, grants, sessions, statements, audit events',
    up(db) {
      db.exec(`
        CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);

        CREATE TABLE connections (
          id TEXT PRIMARY KEY,
          name TEXT NOT NULL UNIQUE,
          kind TEXT NOT NULL,
          host TEXT NOT NULL,
          port INTEGER NOT NULL,
          database TEXT NOT NULL,
          username TEXT NOT NULL,
          tls_mode TEXT NOT NULL,
          secret_enc BLOB,
          tags TEXT NOT NULL DEFAULT '[]',
          created_at INTEGER NOT NULL,
          updated_at INTEGER NOT NULL
        );

        CREATE TABLE agents (
          id TEXT PRIMARY KEY,
          name TEXT NOT NULL UNIQUE,
          secret_verifier TEXT NOT NULL,
          tags TEXT NOT NULL DEFAULT '[]',
          disabled INTEGER NOT NULL DEFAULT 0,
          created_at INTEGER NOT NULL
        );

        CREATE TABLE grants (
          id TEXT PRIMARY KEY,
          agent_id TEXT NOT NULL REFERENCES agents(id) ON DELETE CASCADE,
          connection_id TEXT NOT NULL REFERENCES connections(id) ON DELETE CASCADE,
          created_at INTEGER NOT NULL,
          expires_at INTEGER,
          revoked_at INTEGER,
          created_by TEXT NOT NULL
        );
        CREATE INDEX grants_agent_connection ON grants (agent_id, connection_id, revoked_at, expires_at);
        CREATE INDEX grants_connection ON grants (connection_id);

        -- Sessions keep names as they were at the time, so history survives renames and removals.
        CREATE TABLE sessions (
          id TEXT PRIMARY KEY,
          protocol TEXT NOT NULL,
          agent_id TEXT NOT NULL,
          agent_name TEXT NOT NULL,
          connection_id TEXT NOT NULL,
          connection_name TEXT NOT NULL,
          client_addr TEXT NOT NULL,
          tls INTEGER NOT NULL,
          started_at INTEGER NOT NULL,
          ended_at INTEGER,
          bytes_in INTEGER NOT NULL DEFAULT 0,
          bytes_out INTEGER NOT NULL DEFAULT 0,
          end_reason TEXT,
          statement_count INTEGER NOT NULL DEFAULT 0
        );
        CREATE INDEX sessions_started ON sessions (started_at DESC, id DESC);
        CREATE INDEX sessions_agent ON sessions (agent_name, started_at DESC, id DESC);
        CREATE INDEX sessions_connection ON sessions (connection_name, started_at DESC, id DESC);
        CREATE INDEX sessions_open ON sessions (ended_at) WHERE ended_at IS NULL;

        CREATE TABLE statements (
          id INTEGER PRIMARY KEY,
          session_id TEXT NOT NULL,
          seq INTEGER NOT NULL,
          protocol TEXT NOT NULL,
          sql TEXT NOT NULL,
          param_count INTEGER NOT NULL,
          started_at INTEGER NOT NULL,
          duration_ms REAL NOT NULL,
          command_tag TEXT,
          rows INTEGER,
          error_code TEXT
        );
        CREATE UNIQUE INDEX statements_session_seq ON statements (session_id, seq);

        CREATE TABLE audit_events (
          id INTEGER PRIMARY KEY,
          at INTEGER NOT NULL,
          kind TEXT NOT NULL,
          actor TEXT NOT NULL,
          agent_name TEXT,
          connection_name TEXT,
          session_id TEXT,
          client_addr TEXT,
          detail TEXT NOT NULL DEFAULT '{}'
        );
        CREATE INDEX audit_kind ON audit_events (kind, at);
        CREATE INDEX audit_agent ON audit_events (agent_name, at);
      `);
    },
  },
  {
    version: 2,
    name: 'tamper-evident audit chain and signed checkpoints',
    up(db) {
      db.exec(`
        ALTER TABLE audit_events ADD COLUMN prev_hash TEXT NOT NULL DEFAULT '';
        ALTER TABLE audit_events ADD COLUMN hash TEXT NOT NULL DEFAULT '';
        CREATE TABLE audit_checkpoints (
          id INTEGER PRIMARY KEY,
          event_id INTEGER NOT NULL,
          event_hash TEXT NOT NULL,
          at INTEGER NOT NULL,
          public_key TEXT NOT NULL,
          signature TEXT NOT NULL
        );
      `);
      // Chain the events recorded before this migration, in id order.
      const rows = db.prepare('SELECT * FROM audit_events ORDER BY id').all() as Record<string, any>[];
      const update = db.prepare('UPDATE audit_events SET prev_hash = ?, hash = ? WHERE id = ?');
      let prev = GENESIS_HASH;
      for (const r of rows) {
        const hash = auditEventHash(prev, {
          id: r.id, at: r.at, kind: r.kind, actor: r.actor, agentName: r.agent_name, connectionName: r.connection_name,
          sessionId: r.session_id, clientAddress: r.client_addr, detail: JSON.parse(r.detail),
        });
        update.run(prev, hash, r.id);
        prev = hash;
      }
    },
  },
  {
    version: 3,
    name: 'access review campaigns',
    up(db) {
      db.exec(`
        CREATE TABLE review_campaigns (
          id TEXT PRIMARY KEY,
          name TEXT NOT NULL,
          period_start INTEGER NOT NULL,
          period_end INTEGER NOT NULL,
          scope TEXT NOT NULL DEFAULT '{}',
          created_at INTEGER NOT NULL,
          created_by TEXT NOT NULL,
          completed_at INTEGER,
          completed_by TEXT,
          digest TEXT,
          signature TEXT,
          public_key TEXT
        );
        -- One row per entitlement (a grant of an agent on a connection) under review, with its decision.
        CREATE TABLE review_items (
          campaign_id TEXT NOT NULL REFERENCES review_campaigns(id) ON DELETE CASCADE,
          grant_id TEXT NOT NULL,
          agent_id TEXT NOT NULL,
          agent_name TEXT NOT NULL,
          connection_id TEXT NOT NULL,
          connection_name TEXT NOT NULL,
          decision TEXT,
          new_expires_at INTEGER,
          comment TEXT,
          decided_by TEXT,
          decided_at INTEGER,
          PRIMARY KEY (campaign_id, grant_id)
        );
      `);
    },
  },
  {
    version: 4,
    name: 'session counters and indexes for filtered, paged session lists',
    up(db) {
      db.exec(`
        -- Session totals per (agent, connection), kept by triggers in the writing transaction, so the
        -- console's "total" for any filter sums a few rows instead of counting every session.
        CREATE TABLE session_counts (
          agent_name TEXT NOT NULL,
          connection_name TEXT NOT NULL,
          total INTEGER NOT NULL,
          open INTEGER NOT NULL,
          PRIMARY KEY (agent_name, connection_name)
        ) WITHOUT ROWID;
        INSERT INTO session_counts (agent_name, connection_name, total, open)
          SELECT agent_name, connection_name, count(*), sum(ended_at IS NULL) FROM sessions GROUP BY agent_name, connection_name;

        CREATE TRIGGER session_counts_insert AFTER INSERT ON sessions BEGIN
          INSERT INTO session_counts (agent_name, connection_name, total, open)
            VALUES (NEW.agent_name, NEW.connection_name, 1, NEW.ended_at IS NULL)
            ON CONFLICT (agent_name, connection_name) DO UPDATE SET total = total + 1, open = open + excluded.open;
        END;
        -- (INSERT OR REPLACE on sessions would bypass this without recursive_triggers; nothing uses it.)
        CREATE TRIGGER session_counts_delete AFTER DELETE ON sessions BEGIN
          UPDATE session_counts SET total = total - 1, open = open - (OLD.ended_at IS NULL)
            WHERE agent_name = OLD.agent_name AND connection_name = OLD.connection_name;
        END;
        CREATE TRIGGER session_counts_update AFTER UPDATE OF agent_name, connection_name, ended_at ON sessions
          WHEN OLD.agent_name IS NOT NEW.agent_name OR OLD.connection_name IS NOT NEW.connection_name
            OR (OLD.ended_at IS NULL) IS NOT (NEW.ended_at IS NULL)
        BEGIN
          UPDATE session_counts SET total = total - 1, open = open - (OLD.ended_at IS NULL)
            WHERE agent_name = OLD.agent_name AND connection_name = OLD.connection_name;
          INSERT INTO session_counts (agent_name, connection_name, total, open)
            VALUES (NEW.agent_name, NEW.connection_name, 1, NEW.ended_at IS NULL)
            ON CONFLICT (agent_name, connection_name) DO UPDATE SET total = total + 1, open = open + excluded.open;
        END;

        -- Both filters at once: without this, a rare pair under a busy agent scans all that agent's sessions.
        CREATE INDEX sessions_agent_connection ON sessions (agent_name, connection_name, started_at DESC, id DESC);
        -- Open sessions are few (live connections): this index drives every activeOnly list and closeOrphans.
        DROP INDEX sessions_open;
        CREATE INDEX sessions_open ON sessions (started_at DESC, id DESC) WHERE ended_at IS NULL;
      `);
    },
  },
  {
    version: 5,
    name: 'policy files: every applied version kept',
    up(db) {
      db.exec(`
        -- The policy in force is the row with the highest version; older rows are its history.
        CREATE TABLE policies (
          version INTEGER PRIMARY KEY,
          yaml TEXT NOT NULL,
          sha256 TEXT NOT NULL,
          applied_at INTEGER NOT NULL,
          applied_by TEXT NOT NULL
        );
      `);
    },
  },
  {
    version: 6,
    name: 'policy decisions on statements, approval requests',
    up(db) {
      db.exec(`
        -- What policy did to a statement: 'block' (never reached the database) or 'approve' (held for a
        -- human; approval_id says who decided what). NULL = allowed without a rule.
        ALTER TABLE statements ADD COLUMN policy_action TEXT;
        ALTER TABLE statements ADD COLUMN policy_rule TEXT;
        ALTER TABLE statements ADD COLUMN approval_id TEXT;
        -- Values the result masker replaced, and a bounded preview of the (masked) result.
        ALTER TABLE statements ADD COLUMN masked_values INTEGER;
        ALTER TABLE statements ADD COLUMN result_preview TEXT;
        CREATE INDEX statements_policy ON statements (policy_action) WHERE policy_action IS NOT NULL;

        CREATE TABLE approvals (
          id TEXT PRIMARY KEY,
          session_id TEXT NOT NULL,
          agent_name TEXT NOT NULL,
          connection_name TEXT NOT NULL,
          protocol TEXT NOT NULL,
          statement TEXT NOT NULL,
          rule TEXT NOT NULL,
          message TEXT NOT NULL,
          requested_at INTEGER NOT NULL,
          expires_at INTEGER NOT NULL,
          -- pending | approved | denied | timed_out | withdrawn | gateway_stopped
          status TEXT NOT NULL,
          decided_by TEXT,
          decided_at INTEGER,
          reason TEXT,
          -- For approvals: 'statement', or the end of a session-wide approval for the same rule.
          scope TEXT,
          scope_until INTEGER
        );
        CREATE INDEX approvals_pending ON approvals (requested_at) WHERE status = 'pending';
        CREATE INDEX approvals_requested ON approvals (requested_at DESC);
        CREATE INDEX approvals_session ON approvals (session_id);
      `);
    },
  },
  {
    version: 7,
    name: 'ssh: agent public keys, pinned upstream host keys, channel recordings, file operations',
    up(db) {
      db.exec(`
        CREATE TABLE agent_ssh_keys (
          id TEXT PRIMARY KEY,
          agent_id TEXT NOT NULL REFERENCES agents(id) ON DELETE CASCADE,
          algo TEXT NOT NULL,
          key_blob BLOB NOT NULL,
          -- SHA256:... of key_blob; one key identifies one agent.
          fingerprint TEXT NOT NULL UNIQUE,
          comment TEXT NOT NULL DEFAULT '',
          created_at INTEGER NOT NULL
        );
        CREATE INDEX agent_ssh_keys_agent ON agent_ssh_keys (agent_id);

        -- Upstream host keys, pinned on first use; a different key later refuses the connection.
        CREATE TABLE ssh_host_pins (
          connection_id TEXT PRIMARY KEY REFERENCES connections(id) ON DELETE CASCADE,
          host TEXT NOT NULL,
          port INTEGER NOT NULL,
          algo TEXT NOT NULL,
          fingerprint TEXT NOT NULL,
          key_blob BLOB NOT NULL,
          pinned_at INTEGER NOT NULL
        );

        -- One row per SSH channel of a session (sessions.protocol = 'ssh'); file is the asciicast v2
        -- recording relative to the data dir (NULL for sftp, whose file operations are in ssh_file_ops).
        CREATE TABLE ssh_recordings (
          session_id TEXT NOT NULL,
          channel_id INTEGER NOT NULL,
          kind TEXT NOT NULL,
          command TEXT,
          file TEXT,
          started_at INTEGER NOT NULL,
          ended_at INTEGER,
          exit_status INTEGER,
          exit_signal TEXT,
          bytes_in INTEGER NOT NULL DEFAULT 0,
          bytes_out INTEGER NOT NULL DEFAULT 0,
          end_reason TEXT,
          truncated INTEGER NOT NULL DEFAULT 0,
          PRIMARY KEY (session_id, channel_id)
        );

        CREATE TABLE ssh_file_ops (
          id INTEGER PRIMARY KEY,
          session_id TEXT NOT NULL,
          channel_id INTEGER NOT NULL,
          at INTEGER NOT NULL,
          op TEXT NOT NULL,
          path TEXT NOT NULL,
          target TEXT,
          direction TEXT,
          bytes INTEGER NOT NULL DEFAULT 0
        );
        CREATE INDEX ssh_file_ops_session ON ssh_file_ops (session_id, channel_id, id);
      `);
    },
  },
  {
    version: 10,
    name: 'ssh: per-connection forwarding allowances, masked value counts per channel',
    up(db) {
      db.exec(`
        -- Which kinds of forwarding (tcpip, agent, x11) an ssh connection allows; none by default.
        CREATE TABLE ssh_connection_settings (
          connection_id TEXT PRIMARY KEY REFERENCES connections(id) ON DELETE CASCADE,
          allow_forwarding TEXT NOT NULL DEFAULT ''
        );
        ALTER TABLE ssh_recordings ADD COLUMN masked INTEGER NOT NULL DEFAULT 0;
      `);
    },
  },
  {
    version: 11,
    name: 'settings changed from the console/CLI; recordings removed by the retention setting',
    up(db) {
      db.exec(`
        -- Settings changed at run time (e.g. recording retention); value is JSON.
        CREATE TABLE settings (
          key TEXT PRIMARY KEY,
          value TEXT NOT NULL,
          updated_at INTEGER NOT NULL,
          updated_by TEXT NOT NULL
        );
        -- When a session's recording (statements, .cast files) was removed by retention; the session
        -- row, its counts and the audit trail stay.
        ALTER TABLE sessions ADD COLUMN recording_purged_at INTEGER;
        CREATE INDEX sessions_retention ON sessions (ended_at) WHERE ended_at IS NOT NULL AND recording_purged_at IS NULL;
      `);
    },
  },
  {
    version: 12,
    name: 'masked values by rule and detector, per statement and per SSH channel',
    up(db) {
      db.exec(`
        -- JSON object {"<rule>:<detector or column>": count}; NULL when nothing was masked.
        ALTER TABLE statements ADD COLUMN masked_by TEXT;
        ALTER TABLE ssh_recordings ADD COLUMN masked_by TEXT;
      `);
    },
  },
  {
    version: 13,
    name: 'a completed review keeps the exact body it signed',
    up(db) {
      db.exec(`
        -- The canonical JSON whose SHA-256 is the review's digest: the campaign, every decision and the
        -- evidence as the reviewer saw it at completion (later retention or activity can't change it).
        ALTER TABLE review_campaigns ADD COLUMN signed_body TEXT;
      `);
    },
  },
];

/**
 * Bring the database to the newest schema: apply every migration newer than its `user_version`, each in
 * its own IMMEDIATE transaction together with the version bump. The version is read again inside that
 * transaction, so two processes opening a new store at once (the server and a CLI command) don't both
 * apply the same step: the second waits for the write lock (busy_timeout) and then finds it done.
 * Returns the schema version reached.
 */
export function migrate(db: Database.Database): number {
  const latest = migrations[migrations.length - 1].version;
  const version = () => db.pragma('user_version', { simple: true }) as number;
  if (version() > latest) throw newerSchema(version(), latest);
  for (const m of migrations) {
    if (m.version <= version()) continue;
    db.transaction(() => {
      const current = version();
      if (current > latest) throw newerSchema(current, latest);
      if (current >= m.version) return;
      m.up(db);
      db.pragma(`user_version = ${m.version}`);
    }).immediate();
  }
  return latest;
}

/**
 * Check, without writing, that a database is at exactly this build's schema (read-only opens cannot
 * migrate). Throws with what to do otherwise.
 */
export function assertCurrentSchema(db: Database.Database): void {
  const latest = migrations[migrations.length - 1].version;
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > latest) throw newerSchema(current, latest);
  if (current < latest) {
    throw new Error(`the store is at schema ${current} and this build needs ${latest}; open it once read-write (start the gateway) to upgrade it`);
  }
}

const newerSchema = (current: number, latest: number) =>
  new Error(`the store was written by a newer Gatehouse (schema ${current}, this build knows ${latest})`);
