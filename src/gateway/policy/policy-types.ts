/**
 * The types every part of the policy feature agrees on: the subject a decision is about, the decision
 * for a statement (or an SSH command), and the masking plan handed to the result rewriter.
 *
 * Written first so the policy engine (policy file, SQL analysis, decisions), the result masker and the
 * gateway's enforcement can be built side by side. Pure data: no I/O.
 */

/** Who is asking, through which connection: rules are scoped by these names and tags. */
export interface PolicySubject {
  connection: { name: string; tags: readonly string[] };
  agent: { name: string; tags: readonly string[] };
}

/** What happens to a statement. Strictness order: allow < approve < block. */
export type PolicyAction = 'allow' | 'approve' | 'block';

/** The decision for one protocol request (a simple Query, possibly several statements, or one Parse). */
export interface StatementDecision {
  action: PolicyAction;
  /** The rule that decided (the strictest match), or null when nothing matched (allow by default). */
  rule: string | null;
  /**
   * Human-readable reason, shown to the client in the ErrorResponse for a block and in the approval
   * request for a hold; names the rule, e.g. `blocked by policy rule "no-drop": DROP TABLE public.users`.
   */
  message: string;
  /** For `approve`: how long to wait for a human before denying. */
  timeoutMs: number;
}

/** Value detectors run on every value of a result, whatever its column is called. */
export type DetectorName =
  | 'email'
  | 'phone'
  | 'payment_card'
  | 'iban'
  | 'us_ssn'
  | 'ipv4'
  | 'ipv6'
  | 'jwt'
  | 'aws_access_key'
  | 'pem_private_key'
  | 'api_token';

/** How a sensitive value is replaced. */
export type MaskStrategy =
  | { kind: 'redact' }
  /** Keep the last `keep` characters, replace the rest with '*'. */
  | { kind: 'partial'; keep: number }
  /** Deterministic keyed hash (HMAC with the data dir's masking key): same input, same token. */
  | { kind: 'hash' }
  | { kind: 'null' };

/** A column rule: which result columns are masked, and how. */
export interface ColumnMaskRule {
  rule: string;
  /**
   * Column patterns. `email` or `*_token` match the column name as the client sees it (glob: * and ?);
   * `users.email` / `public.users.email` match the source table column resolved from RowDescription's
   * table OID + attribute number against the upstream catalog.
   */
  columns: readonly string[];
  strategy: MaskStrategy;
}

/** A value rule: detectors (built-in and custom regexes) applied to every value. */
export interface ValueMaskRule {
  rule: string;
  detectors: readonly DetectorName[];
  /** Custom detectors: a name and a regex source (JavaScript syntax, matched against each value). */
  custom: readonly { name: string; pattern: string }[];
  strategy: MaskStrategy;
}

/** Everything the result masker needs for one session; empty lists mean "no masking". */
export interface MaskingPlan {
  columns: readonly ColumnMaskRule[];
  values: readonly ValueMaskRule[];
}

export const NO_MASKING: MaskingPlan = { columns: [], values: [] };

/** Default time an approval waits for a human before the statement is denied. */
export const DEFAULT_APPROVAL_TIMEOUT_MS = 5 * 60_000;
