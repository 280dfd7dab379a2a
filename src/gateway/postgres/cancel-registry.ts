import { randomInt, timingSafeEqual } from 'node:crypto';

/** Where a client's CancelRequest must go: the upstream server and the upstream's own key. */
export interface CancelTarget {
  host: string;
  port: number;
  processId: number;
  secretKey: number;
}

/**
 * Maps the BackendKeyData the gateway hands to each client onto the upstream's key. Clients never see
 * upstream keys (or hosts), so a cancel can only reach the session it was issued for.
 */
export class CancelRegistry {
  private readonly byPid = new Map<number, { secret: number; target: CancelTarget }>();

  /** Issue a fresh client-facing key for a session and remember where it points. */
  register(target: CancelTarget): { processId: number; secretKey: number } {
    let pid: number;
    do pid = randomInt(1, 0x7fffffff);
    while (this.byPid.has(pid));
    const secret = randomInt(-0x80000000, 0x7fffffff);
    this.byPid.set(pid, { secret, target });
    return { processId: pid, secretKey: secret };
  }

  /** Forget a session's key (at session end). */
  unregister(processId: number): void {
    this.byPid.delete(processId);
  }

  /** The target for a CancelRequest, if the key matches a live session. */
  resolve(processId: number, secretKey: number): CancelTarget | undefined {
    const entry = this.byPid.get(processId);
    if (!entry) return undefined;
    const a = Buffer.alloc(4);
    const b = Buffer.alloc(4);
    a.writeInt32BE(entry.secret);
    b.writeInt32BE(secretKey | 0);
    return timingSafeEqual(a, b) ? entry.target : undefined;
  }
}
