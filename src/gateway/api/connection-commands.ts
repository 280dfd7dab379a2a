import { randomUUID } from 'node:crypto';
import { connectionToDto } from '../core/dto';
import { invalid, notFound } from '../core/errors';
import { testSshConnection } from '../ssh/connection-test';
import { openSshCredential, sealSshCredential } from '../ssh/ssh-credential';
import type { ConnectionDto, SshForwardingKind } from '../../shared/contract';
import type { ConnectionRecord } from '../store/records';
import type { ApiDeps, Handlers } from './api-types';

type Names = 'connections.list' | 'connections.add' | 'connections.update' | 'connections.remove' | 'connections.test';

/** connections.*: register upstreams; their credential is sealed on the way in and never comes back out. */
export function connectionCommands(deps: ApiDeps): Handlers<Names> {
  const { store, secretBox, audit } = deps;
  const now = deps.now ?? Date.now;
  const get = (name: string) => {
    const c = store.connections.getByName(name);
    if (!c) throw notFound('connection', name);
    return c;
  };
  const describe = (c: ConnectionRecord) => ({ host: c.host, port: c.port, database: c.database, username: c.username, tlsMode: c.tlsMode, tags: c.tags });
  const toDto = (c: ConnectionRecord): ConnectionDto => (c.kind === 'ssh' ? { ...connectionToDto(c), allowForwarding: store.ssh.allowedForwarding(c.id) } : connectionToDto(c));
  const checkForwarding = (kind: ConnectionRecord['kind'], allow: readonly SshForwardingKind[] | undefined) => {
    if (allow === undefined) return;
    if (kind !== 'ssh') throw invalid('forwarding is for ssh connections only', [{ path: 'allowForwarding', message: 'ssh only' }]);
  };

  return {
    'connections.list': () => store.connections.list().map(toDto),

    'connections.add': (input, ctx) => {
      if (input.kind === 'postgres' && !input.database) throw invalid('a postgres connection needs a database name');
      if (input.kind === 'postgres' && input.privateKey !== undefined) throw invalid('a private key is a credential for ssh connections only');
      checkForwarding(input.kind, input.allowForwarding);
      const id = randomUUID();
      const t = now();
      const rec: ConnectionRecord = {
        id,
        name: input.name,
        kind: input.kind,
        host: input.host,
        port: input.port,
        database: input.database ?? '',
        username: input.username,
        tlsMode: input.kind === 'ssh' ? 'disable' : input.tlsMode,
        secretEnc: input.kind === 'ssh' ? sealSshCredential(secretBox, id, input) : input.password === undefined ? null : secretBox.seal(input.password, id),
        tags: input.tags,
        createdAt: t,
        updatedAt: t,
      };
      store.connections.insert(rec);
      if (input.allowForwarding?.length) store.ssh.setAllowedForwarding(rec.id, input.allowForwarding);
      audit.append({
        kind: 'connection.added',
        actor: ctx.actor,
        connectionName: rec.name,
        detail: { after: describe(rec), credential: rec.secretEnc ? 'set' : 'none', ...(input.allowForwarding?.length ? { allowForwarding: input.allowForwarding } : {}) },
      });
      return toDto(rec);
    },

    'connections.update': (input, ctx) => {
      const before = get(input.name);
      if (before.kind === 'ssh' && input.password !== undefined) throw invalid('replace an ssh credential by removing and adding the connection');
      checkForwarding(before.kind, input.allowForwarding);
      const forwardingBefore = before.kind === 'ssh' ? store.ssh.allowedForwarding(before.id) : undefined;
      if (input.allowForwarding !== undefined) store.ssh.setAllowedForwarding(before.id, input.allowForwarding);
      const after = store.connections.update(before.id, {
        host: input.host,
        port: input.port,
        database: input.database,
        username: input.username,
        tlsMode: input.tlsMode,
        tags: input.tags,
        secretEnc: input.password === undefined ? undefined : secretBox.seal(input.password, before.id),
        updatedAt: now(),
      });
      audit.append({
        kind: 'connection.updated',
        actor: ctx.actor,
        connectionName: after.name,
        detail: {
          before: describe(before),
          after: describe(after),
          credential: input.password === undefined ? 'unchanged' : 'replaced',
          ...(input.allowForwarding !== undefined ? { allowForwarding: { before: forwardingBefore, after: store.ssh.allowedForwarding(before.id) } } : {}),
        },
      });
      return toDto(after);
    },

    'connections.remove': (input, ctx) => {
      const c = get(input.name);
      const closed = deps.runtime.closeSessions({ connectionId: c.id }, 'connection_removed');
      store.connections.remove(c.id);
      audit.append({ kind: 'connection.removed', actor: ctx.actor, connectionName: c.name, detail: { before: describe(c), sessionsClosed: closed } });
      return { removed: true };
    },

    'connections.test': async (input, ctx) => {
      const c = get(input.name);
      if (c.kind === 'ssh') {
        const secret = c.secretEnc;
        return testSshConnection(
          c,
          () => {
            if (!secret) throw new Error('no credential stored');
            return openSshCredential(secretBox, c.id, secret);
          },
          store.ssh,
          { onPinned: (fingerprint) => audit.append({ kind: 'ssh.host_key_pinned', actor: ctx.actor, connectionName: c.name, detail: { protocol: 'ssh', fingerprint, host: `${c.host}:${c.port}`, by: 'connection test' } }) },
        );
      }
      const password = c.secretEnc ? secretBox.open(c.secretEnc, c.id) : null;
      return deps.runtime.testConnection({ host: c.host, port: c.port, database: c.database, user: c.username, password, tlsMode: c.tlsMode });
    },
  };
}
