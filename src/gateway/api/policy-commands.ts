import type { PolicyVersionDto } from '../../shared/contract';
import { invalid, notFound } from '../core/errors';
import { diffPolicies, MAX_PATCH_CHARS, policyLineCounts } from '../policy/policy-diff';
import { decideAnalysis } from '../policy/policy-engine';
import { parsePolicy } from '../policy/policy-file';
import { analyzeSql, loadSqlParser } from '../policy/sql-parser';
import { SqlSessionState } from '../policy/sql-session-state';
import type { PolicyRecord } from '../store/policies-repo';
import type { ApiDeps, Handlers } from './api-types';
import { currentPolicyRecord, loadCompiledPolicy, policySha256 } from './policy-loader';

type Names = 'policy.get' | 'policy.apply' | 'policy.check' | 'policy.validate' | 'policy.history' | 'policy.diff';

/** A diff asked for from the console or CLI may be bigger than one kept in an audit event. */
const MAX_API_PATCH_CHARS = 1024 * 1024;

/** Version 0: the empty policy in force before any was applied. */
const NONE = { version: 0, yaml: '' };

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
      const { previous, record: rec } = store.policies.addReplacing({ yaml: input.yaml, sha256, appliedAt: now(), appliedBy: ctx.actor });
      // Before/after: the version replaced (its hash) and the unified diff from it, so the audit trail
      // alone shows what changed; the full texts of both stay in the policy versions.
      const change = diffPolicies(previous ?? NONE, rec, MAX_PATCH_CHARS);
      audit.append({
        kind: 'policy.applied',
        actor: ctx.actor,
        detail: {
          version: rec.version,
          sha256,
          previousVersion: previous?.version ?? 0,
          previousSha256: previous?.sha256 ?? null,
          rules: parsed.policy.rules.length,
          presets: parsed.policy.presets.map((p) => p.name),
          masking: parsed.policy.masking.length,
          linesAdded: change.linesAdded,
          linesRemoved: change.linesRemoved,
          diff: change.patch,
          ...(change.truncated ? { diffTruncated: true } : {}),
        },
      });
      const dto = toDto(rec);
      events.emit('policy.changed', dto);
      return dto;
    },

    'policy.history': (input) => {
      // One extra (older) version so the oldest listed one can be counted against its predecessor.
      const rows = store.policies.history(input.limit + 1);
      return rows.slice(0, input.limit).map((r, i) => ({ ...toDto(r), ...policyLineCounts(rows[i + 1] ?? NONE, r) }));
    },

    'policy.diff': (input) => {
      const toVersion = input.to ?? currentPolicyRecord(store).version;
      const to = toVersion === 0 ? NONE : store.policies.get(toVersion);
      if (!to) throw notFound('policy version', String(toVersion));
      const fromVersion = input.from ?? Math.max(toVersion - 1, 0);
      const from = fromVersion === 0 ? NONE : store.policies.get(fromVersion);
      if (!from) throw notFound('policy version', String(fromVersion));
      return { from: from.version, to: to.version, ...diffPolicies(from, to, MAX_API_PATCH_CHARS) };
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
