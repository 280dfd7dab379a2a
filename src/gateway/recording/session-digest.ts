import { createHash } from 'node:crypto';
import { canonicalJson } from '../store/audit-chain';
import type { StatementRecord } from '../store/records';

/**
 * SHA-256 over a session's recorded statements in order (canonical JSON, one per line, without the
 * store's row ids). Chained into the audit trail when the session ends, so editing, deleting or
 * reordering a recorded statement afterwards is detected by `gatehouse audit verify`.
 */
export function sessionDigest(statements: StatementRecord[]): string {
  const h = createHash('sha256');
  for (const s of statements) h.update(sessionDigestLine(s));
  return h.digest('hex');
}

/**
 * One statement as the session digest hashes it: canonical JSON and a newline. Evidence packs write a
 * session's recording as exactly these lines, so the recording file's SHA-256 is the chained digest.
 */
export function sessionDigestLine(s: StatementRecord): string {
  return (
    canonicalJson({
      seq: s.seq,
      protocol: s.protocol,
      sql: s.sql,
      paramCount: s.paramCount,
      startedAt: s.startedAt,
      durationMs: s.durationMs,
      commandTag: s.commandTag,
      rows: s.rows,
      errorCode: s.errorCode,
      // Policy and masking fields join the digest only when set, so digests of sessions recorded
      // before they existed still verify.
      ...(s.policyAction ? { policyAction: s.policyAction, policyRule: s.policyRule ?? null, approvalId: s.approvalId ?? null } : {}),
      ...(s.maskedValues ? { maskedValues: s.maskedValues } : {}),
      ...(s.maskedBy ? { maskedBy: s.maskedBy } : {}),
      ...(s.resultPreview != null ? { resultPreview: s.resultPreview } : {}),
    }) + '\n'
  );
}
