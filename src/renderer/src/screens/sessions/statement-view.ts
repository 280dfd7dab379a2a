import type { ApprovalDto, StatementDto } from '../../../../shared/contract';

/** What happened to a statement, as the session page's badge shows it. */
export type StatementDecision = 'blocked' | 'approved' | 'denied' | 'held' | 'masked' | 'error' | 'allowed';

/**
 * The badge for a statement: policy first (blocked; held, then approved or denied by its request), then
 * masking, then a database error; otherwise allowed. A held statement whose request is unknown is "held".
 */
export function statementDecision(s: StatementDto, approval: ApprovalDto | undefined): StatementDecision {
  if (s.policyAction === 'block') return 'blocked';
  if (s.policyAction === 'approve') {
    if (approval?.status === 'approved') return 'approved';
    if (approval && approval.status !== 'pending') return 'denied';
    // Without the request at hand: a statement that ran without an error was let through.
    if (!approval) return s.errorCode ? 'denied' : 'approved';
    return 'held';
  }
  if ((s.maskedValues ?? 0) > 0) return 'masked';
  if (s.errorCode) return 'error';
  return 'allowed';
}

/** A statement's result preview (JSON {columns, rows, truncated?}), or null when absent or unreadable. */
export function parsePreview(text: string | null): { columns: string[]; rows: (string | null)[][]; truncated: boolean } | null {
  if (!text) return null;
  try {
    const v = JSON.parse(text) as { columns?: unknown; rows?: unknown; truncated?: unknown };
    if (!Array.isArray(v.columns) || !Array.isArray(v.rows)) return null;
    const columns = v.columns.map(String);
    const rows = v.rows.filter(Array.isArray).map((r: unknown[]) => r.map((x) => (x === null ? null : String(x))));
    return { columns, rows, truncated: v.truncated === true };
  } catch {
    return null;
  }
}
