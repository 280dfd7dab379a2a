import { auditToDto, sessionToDto, sshFileOpToDto, sshSessionChannelToDto, statementToDto } from '../core/dto';
import { notFound } from '../core/errors';
import { verifyAuditChain } from '../recording/audit-verify';
import type { ApiDeps, Handlers } from './api-types';

type Names = 'sessions.list' | 'sessions.get' | 'sessions.statements' | 'audit.list' | 'audit.verify' | 'server.info';

/** Read side: recorded sessions and statements, the audit trail, and what this server is. */
export function sessionCommands(deps: ApiDeps): Handlers<Names> {
  const { store } = deps;
  return {
    'server.info': () => deps.info(),

    'sessions.list': (input) => {
      const page = store.sessions.list({
        limit: input.limit,
        before: input.before,
        agentName: input.agent,
        connectionName: input.connection,
        activeOnly: input.activeOnly,
        decision: input.decision,
        text: input.text,
        from: input.from ? Date.parse(input.from) : undefined,
        to: input.to ? Date.parse(input.to) : undefined,
      });
      return { items: page.items.map(sessionToDto), total: page.total };
    },

    'sessions.get': (input) => {
      const s = store.sessions.get(input.id);
      if (!s) throw notFound('session', input.id);
      // One extra row tells whether the limit cut the list.
      const rows = store.statements.listBySession(s.id, input.statementLimit ? { limit: input.statementLimit + 1 } : {});
      const more = input.statementLimit !== undefined && rows.length > input.statementLimit;
      const out = { session: sessionToDto(s), statements: (more ? rows.slice(0, -1) : rows).map(statementToDto), ...(input.statementLimit !== undefined ? { moreStatements: more } : {}) };
      if (s.protocol !== 'ssh') return out;
      return { ...out, ssh: { channels: store.ssh.listRecordings(s.id).map(sshSessionChannelToDto), fileOps: store.ssh.listFileOps(s.id).map(sshFileOpToDto) } };
    },

    'sessions.statements': (input) => {
      if (!store.sessions.get(input.id)) throw notFound('session', input.id);
      const rows = store.statements.listBySession(input.id, { afterSeq: input.afterSeq, limit: input.limit + 1 });
      const more = rows.length > input.limit;
      return { statements: (more ? rows.slice(0, -1) : rows).map(statementToDto), more };
    },

    'audit.list': (input) =>
      store.audit
        .list({ limit: input.limit, kind: input.kind, agentName: input.agent, afterId: input.afterId, since: input.since ? Date.parse(input.since) : undefined, order: input.order })
        .map(auditToDto),

    'audit.verify': () => verifyAuditChain(store, deps.auditPublicKey ?? null, deps.info().dataDir),
  };
}
