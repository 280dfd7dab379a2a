import { randomUUID } from 'node:crypto';
import { agentToDto } from '../core/dto';
import { notFound } from '../core/errors';
import { generateAgentSecret } from '../identity/agent-secret';
import { createScramVerifier } from '../identity/scram';
import { parsePublicKey } from '../ssh/ssh-key-format';
import type { ApiDeps, Handlers } from './api-types';

type Names = 'agents.list' | 'agents.add' | 'agents.remove' | 'agents.update' | 'agents.rotate';

/** agents.*: identities for AI agents. The secret is returned once; only a SCRAM verifier is kept. */
export function agentCommands(deps: ApiDeps): Handlers<Names> {
  const { store, audit } = deps;
  const now = deps.now ?? Date.now;
  return {
    'agents.list': () => store.agents.list().map(agentToDto),

    'agents.add': (input, ctx) => {
      const sshKey = input.sshPublicKey === undefined ? null : parsePublicKey(input.sshPublicKey);
      const secret = generateAgentSecret();
      const rec = { id: randomUUID(), name: input.name, secretVerifier: createScramVerifier(secret), tags: input.tags, disabled: false, createdAt: now() };
      store.transaction(() => {
        store.agents.insert(rec);
        if (sshKey) store.ssh.addAgentKey({ id: randomUUID(), agentId: rec.id, algo: sshKey.algo, blob: sshKey.blob, fingerprint: sshKey.fingerprint, comment: sshKey.comment, createdAt: rec.createdAt });
      });
      audit.append({ kind: 'agent.added', actor: ctx.actor, agentName: rec.name, detail: { tags: rec.tags, ...(sshKey ? { sshKey: sshKey.fingerprint } : {}) } });
      return { agent: agentToDto(rec), secret };
    },

    'agents.update': (input, ctx) => {
      const a = store.agents.getByName(input.name);
      if (!a) throw notFound('agent', input.name);
      const patch = { ...(input.tags !== undefined ? { tags: input.tags } : {}), ...(input.disabled !== undefined ? { disabled: input.disabled } : {}) };
      const updated = store.agents.update(a.id, patch);
      // A disabled agent is refused at its next login; what it has open now ends too.
      const closed = input.disabled && !a.disabled ? deps.runtime.closeSessions({ agentId: a.id }, 'agent_disabled') : 0;
      audit.append({
        kind: input.disabled === undefined || input.disabled === a.disabled ? 'agent.updated' : input.disabled ? 'agent.disabled' : 'agent.enabled',
        actor: ctx.actor,
        agentName: a.name,
        detail: { before: { tags: a.tags, disabled: a.disabled }, after: { tags: updated.tags, disabled: updated.disabled }, ...(closed ? { sessionsClosed: closed } : {}) },
      });
      return agentToDto(updated);
    },

    'agents.rotate': (input, ctx) => {
      const a = store.agents.getByName(input.name);
      if (!a) throw notFound('agent', input.name);
      const secret = generateAgentSecret();
      const updated = store.agents.update(a.id, { secretVerifier: createScramVerifier(secret) });
      // Sessions opened with the old secret end with it (a rotation usually follows a leak).
      const closed = deps.runtime.closeSessions({ agentId: a.id }, 'secret_rotated');
      audit.append({ kind: 'agent.secret_rotated', actor: ctx.actor, agentName: a.name, detail: { sessionsClosed: closed } });
      return { agent: agentToDto(updated), secret, sessionsClosed: closed };
    },

    'agents.remove': (input, ctx) => {
      const a = store.agents.getByName(input.name);
      if (!a) throw notFound('agent', input.name);
      const closed = deps.runtime.closeSessions({ agentId: a.id }, 'agent_removed');
      store.agents.remove(a.id);
      audit.append({ kind: 'agent.removed', actor: ctx.actor, agentName: a.name, detail: { sessionsClosed: closed } });
      return { removed: true };
    },
  };
}
