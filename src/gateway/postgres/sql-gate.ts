import type { ApprovalBroker, HeldRequest } from '../approvals/approval-broker';
import type { AuditLog } from '../recording/audit-log';
import type { MaskingPlan, PolicySubject, StatementDecision } from '../policy/policy-types';
import type { StatementGate } from './statement-gate';

/** One session's view of the policy in force (it follows `policy apply` while the session runs). */
export interface SqlSessionPolicy {
  /**
   * Decide a Query's or Parse's SQL for this session (knows its SQL-level PREPARE names). `preparedAs`:
   * a named Parse's name (what the name held before counts too). Never throws.
   */
  decide(sql: string, preparedAs?: string): StatementDecision;
  /** A statement went ahead: remember what it prepared (`preparedAs`: a named Parse) or deallocated. */
  forwarded(sql: string, preparedAs?: string): void;
  /** A prepared statement was closed (protocol Close). */
  closed(name: string): void;
  /** Whether any SQL rule applies to this session's agent and connection right now. */
  appliesToSql(): boolean;
  /** What to mask in this session's results right now (the same object while the policy is unchanged). */
  masking(): MaskingPlan;
}

/** The policy engine as the PostgreSQL gateway sees it. */
export interface SqlPolicy {
  /** A session's policy; `startup`: the client's StartupMessage parameters (settings made there count). */
  session(subject: PolicySubject, startup?: ReadonlyMap<string, string>): SqlSessionPolicy;
}

interface SessionInfo {
  id: string;
  agentName: string;
  connectionName: string;
  clientAddress: string;
}

/**
 * The relay's StatementGate over the policy engine, the approval broker and the audit trail. A policy
 * failure while deciding is a block (fail closed), never an allow.
 */
export function createSqlGate(policy: SqlSessionPolicy, approvals: ApprovalBroker, audit: AuditLog, session: SessionInfo): StatementGate {
  return {
    decide(sql, preparedAs) {
      try {
        return policy.decide(sql, preparedAs);
      } catch (err) {
        return { action: 'block', rule: null, message: `blocked: the policy could not be evaluated (${(err as Error).message})`, timeoutMs: 0 };
      }
    },
    forwarded: (sql, preparedAs) => policy.forwarded(sql, preparedAs),
    closed: (name) => policy.closed(name),
    get refusesFunctionCall() {
      return policy.appliesToSql();
    },
    sessionApproval: (rule) => approvals.sessionApproval(session.id, rule),
    hold(sql: string, d: StatementDecision): HeldRequest {
      return approvals.request({
        sessionId: session.id,
        agentName: session.agentName,
        connectionName: session.connectionName,
        protocol: 'postgres',
        statement: sql,
        rule: d.rule ?? 'policy',
        message: d.message,
        timeoutMs: d.timeoutMs,
      });
    },
    refused(sql, what) {
      // Approval outcomes are audited by the broker; blocks are audited here.
      if (what.kind !== 'blocked') return;
      audit.append({
        kind: 'statement.blocked',
        actor: `agent:${session.agentName}`,
        agentName: session.agentName,
        connectionName: session.connectionName,
        sessionId: session.id,
        clientAddress: session.clientAddress,
        detail: { rule: what.rule, message: what.message, statement: sql.length > 4000 ? sql.slice(0, 4000) + '…' : sql },
      });
    },
  };
}
