import type { PolicyVersionDto } from '../../shared/contract';
import { invalid, notFound } from '../core/errors';
import { decideAnalysis } from '../policy/policy-engine';
import { parsePolicy } from '../policy/policy-file';
import { analyzeSql, loadSqlParser } from '../policy/sql-parser';
import { SqlSessionState } from '../policy/sql-session-state';
import type { PolicyRecord } from '../store/policies-repo';
import type { ApiDeps, Handlers } from './api-types';
import { currentPolicyRecord, loadCompiledPolicy, policySha256 } from './policy-loader';

type Names = 'policy.get' | 'policy.apply' | 'policy.check' | 'policy.validate';

const toDto = (r: PolicyRecord): PolicyVersionDto => ({
  version: r.version,
  sha256: r.sha256,
  appliedAt: r.version > 0 ? new Date(r.appliedAt).toISOString() : null,
  appliedBy: r.version > 0 ? r.appliedBy : null,
});

/** policy.*: the policy file in force (get), a new version (apply), and a dry-run decision (check). */
export function policyCommands(deps: ApiDeps): Handlers<Names> {
  const { store, audit, events } = deps;
  const now = deps.now ?? Date.now;
  return {
    'policy.get': () => {
      const r = currentPolicyRecord(store);
      return { ...toDto(r), yaml: r.yaml };
    },

    'policy.apply': (input, ctx) => {
      const parsed = parsePolicy(input.yaml);
      if (!parsed.ok) {
        const issues = parsed.errors.map((e) => ({ path: e.path, message: `line ${e.line}, column ${e.column}: ${e.message}` }));
        const first = parsed.errors[0];
        throw invalid(`invalid policy (${parsed.errors.length} problem${parsed.errors.length === 1 ? '' : 's'}; first at line ${first.line}, column ${first.column}: ${first.path}: ${first.message})`, issues);
      }
      const sha256 = policySha256(input.yaml);
      const rec = store.policies.add({ yaml: input.yaml, sha256, appliedAt: now(), appliedBy: ctx.actor });
      audit.append({
        kind: 'policy.applied',
        actor: ctx.actor,
        detail: { version: rec.version, sha256, rules: parsed.policy.rules.length, presets: parsed.policy.presets.map((p) => p.name), masking: parsed.policy.masking.length },
      });
      const dto = toDto(rec);
      events.emit('policy.changed', dto);
      return dto;
    },

    'policy.validate': (input) => {
      const parsed = parsePolicy(input.yaml);
      return { errors: parsed.ok ? [] : parsed.errors };
    },

    'policy.check': async (input) => {
      const connection = store.connections.getByName(input.connection);
      if (!connection) throw notFound('connection', input.connection);
      const agent = store.agents.getByName(input.agent);
      if (!agent) throw notFound('agent', input.agent);
      await loadSqlParser();
      const compiled = loadCompiledPolicy(store);
      const subject = { connection: { name: connection.name, tags: connection.tags }, agent: { name: agent.name, tags: agent.tags } };
      const analysis = analyzeSql(input.sql);
      // As the first request of a new session: a PREPARE earlier in the string is followed by its EXECUTE.
      const state = new SqlSessionState();
      const decision = decideAnalysis(compiled, subject, analysis, state);
      return {
        ...decision,
        parseError: analysis.ok ? null : analysis.error,
        statements: analysis.ok
          ? analysis.statements.map((s) => ({
              kind: s.kind,
              summary: s.summary,
              kinds: [...s.kinds],
              tablesRead: [...s.tablesRead],
              tablesWritten: [...s.tablesWritten],
              functions: [...s.functions],
              conditions: [...s.conditions],
            }))
          : [],
        policyVersion: currentPolicyRecord(store).version,
      };
    },
  };
}
