import { randomUUID } from 'node:crypto';
import { agentToDto } from '../core/dto';
import { notFound } from '../core/errors';
import { generateAgentSecret } from '../identity/agent-secret';
import { createScramVerifier } from '../identity/scram';
import { parsePublicKey } from '../ssh/ssh-key-format';
import type { ApiDeps, Handlers } from './api-types';

type Names = 'agents.list' | 'agents.add' | 'agents.remove';

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
