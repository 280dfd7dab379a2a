/**
 * SFTP packet types (draft-ietf-secsh-filexfer-02, what OpenSSH speaks), wire byte in the comment.
 * Only the ones the tap looks at.
 */
export const SftpType = {
  open: 3, // SSH_FXP_OPEN
  close: 4, // SSH_FXP_CLOSE
  read: 5, // SSH_FXP_READ
  write: 6, // SSH_FXP_WRITE
  setstat: 9, // SSH_FXP_SETSTAT
  remove: 13, // SSH_FXP_REMOVE
  mkdir: 14, // SSH_FXP_MKDIR
  rmdir: 15, // SSH_FXP_RMDIR
  rename: 18, // SSH_FXP_RENAME
  symlink: 20, // SSH_FXP_SYMLINK
  extended: 200, // SSH_FXP_EXTENDED
  status: 101, // SSH_FXP_STATUS
  handle: 102, // SSH_FXP_HANDLE
  data: 103, // SSH_FXP_DATA
} as const;

/** SSH_FXF_* open flags. */
const FXF_WRITE = 0x02;

/** A file operation seen in an sftp channel. */
export interface SftpFileOp {
  op: string;
  path: string;
  target?: string | null;
  direction: 'upload' | 'download' | null;
  bytes: number;
}

/** The SFTP stream broke the protocol (the channel is then closed: a tap that cannot follow fails closed). */
export class SftpProtocolError extends Error {}

/** Largest SFTP packet accepted (OpenSSH's own limit is 256 KiB). */
const MAX_PACKET = 4 * 1024 * 1024;
/** Bytes of a WRITE/DATA packet the tap reads (ids, handle, lengths); the payload itself is skipped. */
const BULK_PREFIX = 4 + 4 + 4 + 256 + 8 + 4;

/**
 * Splits one direction of an SFTP byte stream into packets (uint32 length, type byte, body) without
 * buffering file contents: for bulk packets only a prefix is kept and the rest is skipped as it passes.
 */
class PacketSplitter {
  private head: Buffer = Buffer.alloc(0);
  private skip = 0;

  constructor(
    private readonly bulkType: number,
    private readonly onPacket: (type: number, body: Buffer, bodyLength: number) => void,
  ) {}

  push(data: Buffer): void {
    if (this.skip > 0) {
      const n = Math.min(this.skip, data.length);
      this.skip -= n;
      data = data.subarray(n);
      if (data.length === 0) return;
    }
    this.head = this.head.length ? Buffer.concat([this.head, data]) : data;
    while (this.head.length >= 5) {
      const len = this.head.readUInt32BE(0);
      if (len < 1 || len > MAX_PACKET) throw new SftpProtocolError(`sftp packet of ${len} bytes`);
      const type = this.head[4];
      const needed = 4 + (type === this.bulkType ? Math.min(len, BULK_PREFIX) : len);
      if (this.head.length < needed) break;
      this.onPacket(type, this.head.subarray(5, needed), len - 1);
      if (this.head.length >= 4 + len) {
        this.head = this.head.subarray(4 + len);
      } else {
        this.skip = 4 + len - this.head.length;
        this.head = Buffer.alloc(0);
      }
    }
    // Keep a private copy of a partial packet: the caller may reuse its buffer.
    if (this.head.length) this.head = Buffer.from(this.head);
  }
}

/** A cursor over an SFTP packet body. */
class Reader {
  private off = 0;
  constructor(private readonly buf: Buffer) {}
  u32(): number {
    if (this.off + 4 > this.buf.length) throw new SftpProtocolError('short sftp packet');
    const v = this.buf.readUInt32BE(this.off);
    this.off += 4;
    return v;
  }
  u64(): number {
    const hi = this.u32();
    return hi * 2 ** 32 + this.u32();
  }
  bytes(): Buffer {
    const n = this.u32();
    if (this.off + n > this.buf.length) throw new SftpProtocolError('short sftp string');
    const v = this.buf.subarray(this.off, this.off + n);
    this.off += n;
    return v;
  }
  str(): string {
    return this.bytes().toString('utf8');
  }
  /** Length of the next string field, without needing its bytes (bulk payloads). */
  lengthOnly(): number {
    return this.u32();
  }
}

interface OpenFile {
  path: string;
  writing: boolean;
  read: number;
  written: number;
}

type Pending =
  | { kind: 'open'; path: string; writing: boolean }
  | { kind: 'read'; handle: string }
  | { kind: 'simple'; op: string; path: string; target: string | null };

/**
 * Watches both directions of an sftp subsystem channel and reports file operations: each file opened
 * (path, bytes read and written, reported when closed), and successful remove, rename, mkdir, rmdir,
 * setstat and symlink requests. Handles still open when the channel ends are reported as `unclosed`
 * (client dropped mid-transfer). Never changes the bytes it sees.
 */
export class SftpTap {
  private readonly pending = new Map<number, Pending>();
  private readonly files = new Map<string, OpenFile>();
  private readonly client: PacketSplitter;
  private readonly server: PacketSplitter;

  constructor(private readonly report: (op: SftpFileOp) => void) {
    this.client = new PacketSplitter(SftpType.write, (t, b, n) => this.clientPacket(t, b, n));
    this.server = new PacketSplitter(SftpType.data, (t, b, n) => this.serverPacket(t, b, n));
  }

  /** Bytes the agent sent (requests). */
  fromClient(data: Buffer): void {
    this.client.push(data);
  }

  /** Bytes the upstream sent (responses). */
  fromServer(data: Buffer): void {
    this.server.push(data);
  }

  /** Report files left open (the channel ended without closing them). */
  close(): void {
    for (const f of this.files.values()) this.reportFile(f, 'unclosed');
    this.files.clear();
  }

  private clientPacket(type: number, body: Buffer, _len: number): void {
    if (type === 1) return; // SSH_FXP_INIT: uint32 version, no request id
    const r = new Reader(body);
    const id = r.u32();
    switch (type) {
      case SftpType.open: {
        const p = r.str();
        const flags = r.u32();
        this.pending.set(id, { kind: 'open', path: p, writing: (flags & FXF_WRITE) !== 0 });
        break;
      }
      case SftpType.close: {
        const h = r.bytes().toString('hex');
        const f = this.files.get(h);
        if (f) {
          this.files.delete(h);
          this.reportFile(f, null);
        }
        break;
      }
      case SftpType.read:
        this.pending.set(id, { kind: 'read', handle: r.bytes().toString('hex') });
        break;
      case SftpType.write: {
        const f = this.files.get(r.bytes().toString('hex'));
        r.u64();
        const n = r.lengthOnly();
        if (f) f.written += n;
        break;
      }
      case SftpType.remove:
        this.pending.set(id, { kind: 'simple', op: 'remove', path: r.str(), target: null });
        break;
      case SftpType.mkdir:
        this.pending.set(id, { kind: 'simple', op: 'mkdir', path: r.str(), target: null });
        break;
      case SftpType.rmdir:
        this.pending.set(id, { kind: 'simple', op: 'rmdir', path: r.str(), target: null });
        break;
      case SftpType.setstat:
        this.pending.set(id, { kind: 'simple', op: 'setstat', path: r.str(), target: null });
        break;
      case SftpType.rename: {
        const from = r.str();
        this.pending.set(id, { kind: 'simple', op: 'rename', path: from, target: r.str() });
        break;
      }
      case SftpType.symlink: {
        // OpenSSH sends (target, link) in the reverse of the draft's order; record both as given.
        const a = r.str();
        this.pending.set(id, { kind: 'simple', op: 'symlink', path: a, target: r.str() });
        break;
      }
      case SftpType.extended: {
        const name = r.str();
        if (name === 'posix-rename@openssh.com') {
          const from = r.str();
          this.pending.set(id, { kind: 'simple', op: 'rename', path: from, target: r.str() });
        }
        break;
      }
      default:
        break;
    }
  }

  private serverPacket(type: number, body: Buffer, _len: number): void {
    if (type === 2) return; // SSH_FXP_VERSION
    const r = new Reader(body);
    const id = r.u32();
    const req = this.pending.get(id);
    if (!req) return;
    this.pending.delete(id);
    if (type === SftpType.handle && req.kind === 'open') {
      this.files.set(r.bytes().toString('hex'), { path: req.path, writing: req.writing, read: 0, written: 0 });
    } else if (type === SftpType.data && req.kind === 'read') {
      const f = this.files.get(req.handle);
      if (f) f.read += r.lengthOnly();
    } else if (type === SftpType.status && req.kind === 'simple') {
      if (r.u32() === 0) this.report({ op: req.op, path: req.path, target: req.target, direction: null, bytes: 0 });
    } else if (type === SftpType.status && req.kind === 'open') {
      this.report({ op: 'open_failed', path: req.path, direction: req.writing ? 'upload' : 'download', bytes: 0 });
    }
  }

  private reportFile(f: OpenFile, suffix: string | null): void {
    const op = f.written > 0 || f.writing ? 'write' : 'read';
    const direction = op === 'write' ? 'upload' : 'download';
    this.report({ op: suffix ? `${op}_${suffix}` : op, path: f.path, direction, bytes: op === 'write' ? f.written : f.read });
  }
}
