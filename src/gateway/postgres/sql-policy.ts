import { decideAnalysis, maskingPlanFor, policyAppliesToSql, type CompiledPolicy } from '../policy/policy-engine';
import { NO_MASKING, type PolicySubject, type StatementDecision } from '../policy/policy-types';
import { analyzeSql } from '../policy/sql-parser';
import { SqlSessionState } from '../policy/sql-session-state';
import type { SqlPolicy, SqlSessionPolicy } from './sql-gate';

const ALLOW: StatementDecision = { action: 'allow', rule: null, message: '', timeoutMs: 0 };

/**
 * The policy engine for PostgreSQL sessions. `current()` returns the compiled policy in force, so a
 * `policy apply` reaches running sessions at their next statement. When no SQL rule applies to a
 * session's agent and connection, statements are not even parsed (the hot path stays as without policy).
 */
export function createSqlPolicy(current: () => CompiledPolicy): SqlPolicy {
  return {
    session(subject: PolicySubject): SqlSessionPolicy {
      const state = new SqlSessionState();
      return {
        decide(sql) {
          const compiled = current();
          if (!policyAppliesToSql(compiled, subject)) return ALLOW;
          return decideAnalysis(compiled, subject, analyzeSql(sql), state);
        },
        forwarded(sql, preparedAs) {
          // State is kept even while no rule applies: a rule applied later must still see what EXECUTE runs.
          const analysis = analyzeSql(sql);
          // A Parse's text runs later (at Execute); its effects (say, SET search_path) are taken now, which
          // over-approximates as the state is meant to.
          state.apply(analysis);
          if (preparedAs) state.recordPrepared(preparedAs, analysis);
        },
        closed(name) {
          state.forget(name);
        },
        appliesToSql: () => policyAppliesToSql(current(), subject),
        masking: () => {
          const compiled = current();
          return compiled.broken !== null ? NO_MASKING : maskingPlanFor(compiled, subject);
        },
      };
    },
  };
}
