import type { HeldRequest } from '../approvals/approval-broker';
import type { StatementDecision } from '../policy/policy-types';

/**
 * What the relay asks policy, per session. The relay knows the protocol (where a statement starts,
 * how to refuse it in order, how to hold it); the gate knows the rules, the session's SQL-level state
 * (PREPARE names) and the approval broker. Built per session by the gateway's composition.
 */
export interface StatementGate {
  /**
   * Decide the SQL of a simple Query (possibly several statements) or of a Parse (`preparedAs`: its
   * statement name, when named). Never throws.
   */
  decide(sql: string, preparedAs?: string): StatementDecision;
  /** The statement was forwarded (allowed or approved): update the session's SQL-level state. */
  forwarded(sql: string, preparedAs?: string): void;
  /** A prepared statement was closed (protocol Close of a statement). */
  closed(name: string): void;
  /** FunctionCall (the fast path by function OID) carries no SQL to check: refused when any SQL rule applies. */
  readonly refusesFunctionCall: boolean;
  /** A session-wide approval already covering statements held by `rule`: its approval id. */
  sessionApproval(rule: string): string | null;
  /** Hold a statement for a human; the relay waits for `outcome`. */
  hold(sql: string, decision: StatementDecision): HeldRequest;
  /** Record a refusal (block, denial, timeout) in the audit trail. */
  refused(sql: string, what: { kind: 'blocked' | 'denied' | 'timed_out' | 'withdrawn' | 'gateway_stopped'; rule: string | null; message: string; approvalId?: string | null }): void;
}
