import { randomUUID } from 'node:crypto';
import { grantToDto } from '../core/dto';
import { notFound } from '../core/errors';
import type { ApiDeps, Handlers } from './api-types';

type Names = 'grants.list' | 'grants.add' | 'grants.revoke';

/** grants.*: which agent may use which connection, until when. Revoking ends open sessions at once. */
export function grantCommands(deps: ApiDeps): Handlers<Names> {
  const { store, audit, events } = deps;
  const now = deps.now ?? Date.now;
  const agent = (name: string) => store.agents.getByName(name) ?? (() => { throw notFound('agent', name); })();
  const connection = (name: string) => store.connections.getByName(name) ?? (() => { throw notFound('connection', name); })();

  return {
    'grants.list': (input) => {
      const t = now();
      return store.grants
        .list({
          agentId: input.agent ? agent(input.agent).id : undefined,
          connectionId: input.connection ? connection(input.connection).id : undefined,
          includeInactive: input.includeInactive,
          now: t,
        })
        .map((g) => grantToDto(g, t));
    },

    'grants.add': (input, ctx) => {
      const a = agent(input.agent);
      const c = connection(input.connection);
      const t = now();
      const id = randomUUID();
      const expiresAt = input.expiresInSeconds ? t + input.expiresInSeconds * 1000 : null;
      store.grants.insert({ id, agentId: a.id, connectionId: c.id, createdAt: t, expiresAt, revokedAt: null, createdBy: ctx.actor });
      const dto = grantToDto(store.grants.get(id)!, t);
      audit.append({ kind: 'grant.added', actor: ctx.actor, agentName: a.name, connectionName: c.name, detail: { grantId: id, expiresAt: dto.expiresAt } });
      events.emit('grant.changed', dto);
      return dto;
    },

    'grants.revoke': (input, ctx) => {
      const t = now();
      let targets: { id: string; agentId: string; connectionId: string; agentName: string; connectionName: string }[];
      if ('id' in input) {
        const g = store.grants.get(input.id);
        if (!g) throw notFound('grant', input.id);
        targets = [g];
      } else {
        const a = agent(input.agent);
        const c = connection(input.connection);
        targets = store.grants.list({ agentId: a.id, connectionId: c.id, includeInactive: false, now: t });
      }
      let revoked = 0;
      let sessionsClosed = 0;
      for (const g of targets) {
        if (!store.grants.revoke(g.id, t)) continue;
        revoked++;
        // Close sessions only if no other active grant still covers this agent on this connection.
        if (!store.grants.findActive(g.agentId, g.connectionId, t)) {
          sessionsClosed += deps.runtime.closeSessions({ agentId: g.agentId, connectionId: g.connectionId }, 'grant_revoked');
        }
        audit.append({ kind: 'grant.revoked', actor: ctx.actor, agentName: g.agentName, connectionName: g.connectionName, detail: { grantId: g.id } });
        events.emit('grant.changed', grantToDto(store.grants.get(g.id)!, t));
      }
      return { revoked, sessionsClosed };
    },
  };
}
