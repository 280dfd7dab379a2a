import { serialize } from 'pg-protocol';
import { readNoticeFields } from './frontend-messages';
import { HandshakeReader } from './handshake-reader';
import { Backend } from './protocol-codes';
import { connectUpstream, type Upstream, type UpstreamTarget } from './upstream';

/**
 * A gateway-owned session on an upstream database, for the gateway's own catalog queries (never an
 * agent's statements): opened with the connection's stored credential through `connectUpstream`, one
 * simple query at a time, text results.
 */
export class SideConnection {
  private queue: Promise<unknown> = Promise.resolve();
  private pending: Buffer;
  private dead = false;

  private constructor(private readonly upstream: Upstream) {
    this.pending = upstream.leftover;
    upstream.socket.on('error', () => {
      this.dead = true;
    });
    upstream.socket.on('close', () => {
      this.dead = true;
    });
  }

  /** Connect and authenticate (fails with UpstreamError like an agent's session would). */
  static async open(target: UpstreamTarget, applicationName = 'gatehouse-catalog'): Promise<SideConnection> {
    return new SideConnection(await connectUpstream(target, { application_name: applicationName }));
  }

  /** False once the upstream closed or failed; open a new one then. */
  get usable(): boolean {
    return !this.dead && !this.upstream.socket.destroyed;
  }

  /**
   * Run one simple query (queued behind any query in progress). Resolves with every row's values (text
   * format; null for NULL); rejects with the server's message for an ErrorResponse.
   */
  query(sql: string): Promise<(string | null)[][]> {
    const run = this.queue.then(() => this.run(sql));
    this.queue = run.catch(() => {});
    return run;
  }

  /** Send Terminate and close. */
  close(): void {
    this.dead = true;
    const socket = this.upstream.socket;
    if (socket.destroyed) return;
    socket.end(serialize.end());
    setTimeout(() => socket.destroy(), 2000).unref();
  }

  private async run(sql: string): Promise<(string | null)[][]> {
    if (!this.usable) throw new Error('the side connection to the upstream is closed');
    const socket = this.upstream.socket;
    if (this.pending.length) socket.unshift(this.pending);
    this.pending = Buffer.alloc(0);
    const reader = new HandshakeReader(socket);
    const rows: (string | null)[][] = [];
    let error: string | null = null;
    try {
      socket.write(serialize.query(sql));
      for (;;) {
        const { type, body } = await reader.readAny(1 << 26).catch((err: Error) => {
          this.dead = true;
          throw new Error(`the upstream closed the side connection: ${err.message}`);
        });
        if (type === Backend.dataRow) {
          const n = body.readInt16BE(0);
          const row: (string | null)[] = [];
          let pos = 2;
          for (let i = 0; i < n; i++) {
            const len = body.readInt32BE(pos);
            pos += 4;
            row.push(len < 0 ? null : body.toString('utf8', pos, pos + len));
            if (len > 0) pos += len;
          }
          rows.push(row);
        } else if (type === Backend.errorResponse) {
          const f = readNoticeFields(body);
          error = `${f.C ?? ''} ${f.M ?? 'error'}`.trim();
        } else if (type === Backend.readyForQuery) {
          if (error !== null) throw new Error(`side query failed: ${error}`);
          return rows;
        }
      }
    } finally {
      this.pending = reader.release();
    }
  }
}
