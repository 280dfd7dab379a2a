import { conflict } from '../core/errors';
import type { Db } from './sql-helpers';

/** An agent's SSH public key (the agent is identified by it when it logs in with key auth). */
export interface AgentSshKeyRecord {
  id: string;
  agentId: string;
  algo: string;
  blob: Buffer;
  fingerprint: string;
  comment: string;
  createdAt: number;
}

/** The upstream host key a connection was first seen with (trust on first use). */
export interface SshHostPinRecord {
  connectionId: string;
  host: string;
  port: number;
  algo: string;
  fingerprint: string;
  blob: Buffer;
  pinnedAt: number;
}

export type SshChannelKind = 'shell' | 'exec' | 'sftp' | 'scp' | 'subsystem';

/** One recorded SSH channel: its asciicast file (relative to the data dir) and how it ended. */
export interface SshRecordingRecord {
  sessionId: string;
  /** 1-based order of the channel within its session (not the wire channel number). */
  channelId: number;
  kind: SshChannelKind;
  command: string | null;
  /** Path of the .cast file relative to the data dir; null when nothing is recorded as a terminal (sftp). */
  file: string | null;
  startedAt: number;
  endedAt: number | null;
  exitStatus: number | null;
  exitSignal: string | null;
  bytesIn: number;
  bytesOut: number;
  endReason: string | null;
  /** True when output beyond the per-channel recording limit was counted but not written. */
  truncated: boolean;
  /** Values masked in the channel's output by policy (schema 10; 0 when none or not known). */
  masked?: number;
  /** `masked` by `<rule>:<detector>` (schema 12). */
  maskedBy?: Record<string, number>;
}

export type SshRecordingEnd = Pick<SshRecordingRecord, 'endedAt' | 'exitStatus' | 'exitSignal' | 'bytesIn' | 'bytesOut' | 'endReason' | 'truncated' | 'masked' | 'maskedBy'>;

/** Kinds of forwarding an ssh connection can allow (none by default). */
export const SSH_FORWARDING_KINDS = ['tcpip', 'agent', 'x11'] as const;
export type SshForwardingKind = (typeof SSH_FORWARDING_KINDS)[number];

/** A file operation seen in an sftp or scp channel. */
export interface SshFileOpRecord {
  id?: number;
  sessionId: string;
  channelId: number;
  at: number;
  /** open, close, remove, rename, mkdir, rmdir, setstat, upload, download ... */
  op: string;
  path: string;
  /** Rename target or link target. */
  target: string | null;
  direction: 'upload' | 'download' | null;
  bytes: number;
}

interface KeyRow { id: string; agent_id: string; algo: string; key_blob: Buffer; fingerprint: string; comment: string; created_at: number }
interface PinRow { connection_id: string; host: string; port: number; algo: string; fingerprint: string; key_blob: Buffer; pinned_at: number }
interface RecRow {
  session_id: string; channel_id: number; kind: SshChannelKind; command: string | null; file: string | null; started_at: number; ended_at: number | null;
  exit_status: number | null; exit_signal: string | null; bytes_in: number; bytes_out: number; end_reason: string | null; truncated: number; masked: number;
  masked_by?: string | null;
}
interface OpRow { id: number; session_id: string; channel_id: number; at: number; op: string; path: string; target: string | null; direction: 'upload' | 'download' | null; bytes: number }

const keyFromRow = (r: KeyRow): AgentSshKeyRecord => ({ id: r.id, agentId: r.agent_id, algo: r.algo, blob: r.key_blob, fingerprint: r.fingerprint, comment: r.comment, createdAt: r.created_at });
const pinFromRow = (r: PinRow): SshHostPinRecord => ({ connectionId: r.connection_id, host: r.host, port: r.port, algo: r.algo, fingerprint: r.fingerprint, blob: r.key_blob, pinnedAt: r.pinned_at });
const recFromRow = (r: RecRow): SshRecordingRecord => ({
  sessionId: r.session_id, channelId: r.channel_id, kind: r.kind, command: r.command, file: r.file, startedAt: r.started_at, endedAt: r.ended_at,
  exitStatus: r.exit_status, exitSignal: r.exit_signal, bytesIn: r.bytes_in, bytesOut: r.bytes_out, endReason: r.end_reason, truncated: r.truncated === 1, masked: r.masked,
  ...(r.masked_by ? { maskedBy: JSON.parse(r.masked_by) as Record<string, number> } : {}),
});
const opFromRow = (r: OpRow): SshFileOpRecord => ({ id: r.id, sessionId: r.session_id, channelId: r.channel_id, at: r.at, op: r.op, path: r.path, target: r.target, direction: r.direction, bytes: r.bytes });

/**
 * SSH-specific rows (schema 7, 10): agents' public keys, pinned upstream host keys, the index of channel
 * recordings and the file operations seen in sftp/scp channels. Lookups by key run on every SSH login.
 */
export class SqliteSshRepo {
  constructor(private readonly db: Db) {}

  /** Store a public key for an agent; a key already registered (to anyone) is a conflict. */
  addAgentKey(rec: AgentSshKeyRecord): void {
    try {
      this.db
        .prepare('INSERT INTO agent_ssh_keys (id, agent_id, algo, key_blob, fingerprint, comment, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)')
        .run(rec.id, rec.agentId, rec.algo, rec.blob, rec.fingerprint, rec.comment, rec.createdAt);
    } catch (err) {
      if ((err as { code?: string }).code === 'SQLITE_CONSTRAINT_UNIQUE') throw conflict(`the SSH key ${rec.fingerprint} is already registered`);
      throw err;
    }
  }

  agentKeys(agentId: string): AgentSshKeyRecord[] {
    return (this.db.prepare('SELECT * FROM agent_ssh_keys WHERE agent_id = ? ORDER BY created_at').all(agentId) as KeyRow[]).map(keyFromRow);
  }

  /** The key row with this fingerprint, if registered. Data path (SSH login). */
  findKey(fingerprint: string): AgentSshKeyRecord | undefined {
    const r = this.db.prepare('SELECT * FROM agent_ssh_keys WHERE fingerprint = ?').get(fingerprint) as KeyRow | undefined;
    return r && keyFromRow(r);
  }

  getHostPin(connectionId: string): SshHostPinRecord | undefined {
    const r = this.db.prepare('SELECT * FROM ssh_host_pins WHERE connection_id = ?').get(connectionId) as PinRow | undefined;
    return r && pinFromRow(r);
  }

  /** Pin a host key unless one is pinned already; returns the pin in force afterwards. */
  pinHostKey(rec: SshHostPinRecord): SshHostPinRecord {
    this.db
      .prepare('INSERT INTO ssh_host_pins (connection_id, host, port, algo, fingerprint, key_blob, pinned_at) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (connection_id) DO NOTHING')
      .run(rec.connectionId, rec.host, rec.port, rec.algo, rec.fingerprint, rec.blob, rec.pinnedAt);
    return this.getHostPin(rec.connectionId)!;
  }

  /** Forget a pinned host key (the operator accepted a new one); returns whether one was pinned. */
  clearHostPin(connectionId: string): boolean {
    return this.db.prepare('DELETE FROM ssh_host_pins WHERE connection_id = ?').run(connectionId).changes > 0;
  }

  startRecording(rec: SshRecordingRecord): void {
    this.db
      .prepare(
        `INSERT INTO ssh_recordings (session_id, channel_id, kind, command, file, started_at, ended_at, exit_status, exit_signal, bytes_in, bytes_out, end_reason, truncated)
         VALUES (?, ?, ?, ?, ?, ?, NULL, NULL, NULL, 0, 0, NULL, 0)`,
      )
      .run(rec.sessionId, rec.channelId, rec.kind, rec.command, rec.file, rec.startedAt);
  }

  endRecording(sessionId: string, channelId: number, end: SshRecordingEnd): void {
    this.db
      .prepare(
        `UPDATE ssh_recordings SET ended_at = ?, exit_status = ?, exit_signal = ?, bytes_in = ?, bytes_out = ?, end_reason = ?, truncated = ?, masked = ?, masked_by = ?
         WHERE session_id = ? AND channel_id = ?`,
      )
      .run(
        end.endedAt, end.exitStatus, end.exitSignal, end.bytesIn, end.bytesOut, end.endReason, end.truncated ? 1 : 0, end.masked ?? 0,
        end.maskedBy && Object.keys(end.maskedBy).length ? JSON.stringify(end.maskedBy) : null, sessionId, channelId,
      );
  }

  /** The kinds of forwarding a connection allows (empty: all refused, the default). */
  allowedForwarding(connectionId: string): SshForwardingKind[] {
    const r = this.db.prepare('SELECT allow_forwarding FROM ssh_connection_settings WHERE connection_id = ?').get(connectionId) as { allow_forwarding: string } | undefined;
    if (!r || !r.allow_forwarding) return [];
    return r.allow_forwarding.split(',').filter((k): k is SshForwardingKind => (SSH_FORWARDING_KINDS as readonly string[]).includes(k));
  }

  /** Set the kinds of forwarding a connection allows (replaces what was set). */
  setAllowedForwarding(connectionId: string, kinds: readonly SshForwardingKind[]): void {
    const value = SSH_FORWARDING_KINDS.filter((k) => kinds.includes(k)).join(',');
    this.db
      .prepare('INSERT INTO ssh_connection_settings (connection_id, allow_forwarding) VALUES (?, ?) ON CONFLICT (connection_id) DO UPDATE SET allow_forwarding = excluded.allow_forwarding')
      .run(connectionId, value);
  }

  listRecordings(sessionId: string): SshRecordingRecord[] {
    return (this.db.prepare('SELECT * FROM ssh_recordings WHERE session_id = ? ORDER BY channel_id').all(sessionId) as RecRow[]).map(recFromRow);
  }

  addFileOp(rec: SshFileOpRecord): void {
    rec.id = Number(
      this.db
        .prepare('INSERT INTO ssh_file_ops (session_id, channel_id, at, op, path, target, direction, bytes) VALUES (?, ?, ?, ?, ?, ?, ?, ?)')
        .run(rec.sessionId, rec.channelId, rec.at, rec.op, rec.path, rec.target, rec.direction, rec.bytes).lastInsertRowid,
    );
  }

  listFileOps(sessionId: string): SshFileOpRecord[] {
    return (this.db.prepare('SELECT * FROM ssh_file_ops WHERE session_id = ? ORDER BY id').all(sessionId) as OpRow[]).map(opFromRow);
  }
}
