import { decideAnalysis, maskingPlanFor, policyAppliesToSql, type CompiledPolicy } from '../policy/policy-engine';
import { NO_MASKING, type MaskingPlan, type PolicySubject, type StatementDecision } from '../policy/policy-types';
import { analyzeSql } from '../policy/sql-parser';
import { SqlSessionState } from '../policy/sql-session-state';
import { startupSettingsSql } from '../policy/startup-settings';
import type { SqlPolicy, SqlSessionPolicy } from './sql-gate';

const ALLOW: StatementDecision = { action: 'allow', rule: null, message: '', timeoutMs: 0 };

/**
 * The policy engine for PostgreSQL sessions. `current()` returns the compiled policy in force, so a
 * `policy apply` reaches running sessions at their next statement. When no SQL rule applies to a
 * session's agent and connection, statements are not even parsed (the hot path stays as without policy).
 */
export function createSqlPolicy(current: () => CompiledPolicy): SqlPolicy {
  return {
    session(subject: PolicySubject, startup?: ReadonlyMap<string, string>): SqlSessionPolicy {
      const state = new SqlSessionState();
      // Settings made in the StartupMessage (role, search_path ...) count as SETs before the first statement.
      const startupSql = startup ? startupSettingsSql(startup) : null;
      if (startupSql) state.apply(analyzeSql(startupSql));
      let planOf: CompiledPolicy | null = null;
      let plan: MaskingPlan = NO_MASKING;
      return {
        decide(sql, preparedAs) {
          const compiled = current();
          if (!policyAppliesToSql(compiled, subject)) return ALLOW;
          if (startupSql) {
            // Decided again each time: the policy may have changed. A startup can't wait for approval.
            const s = decideAnalysis(compiled, subject, analyzeSql(startupSql), new SqlSessionState());
            if (s.action !== 'allow') {
              return {
                action: 'block',
                rule: s.rule,
                message: `blocked: this session's startup parameters are refused by policy, so none of its statements run; reconnect without them (${s.message})`,
                timeoutMs: s.timeoutMs,
              };
            }
          }
          return decideAnalysis(compiled, subject, analyzeSql(sql), state, preparedAs);
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
          // The same plan object while the policy is the same one: callers compare plans by identity.
          const compiled = current();
          if (compiled !== planOf) {
            planOf = compiled;
            plan = compiled.broken !== null ? NO_MASKING : maskingPlanFor(compiled, subject);
          }
          return plan;
        },
      };
    },
  };
}
