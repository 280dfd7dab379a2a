import type { ConnectionRecord } from '../store/records';
import type { StoreApi } from '../store/store-api';

/** Why an authenticated agent may not use a connection; the same reasons for every protocol (audited as `access.denied`). */
export type GrantRefusalReason = 'unknown_connection' | 'wrong_kind' | 'no_grant' | 'grant_expired' | 'grant_revoked';

export type GrantCheck =
  | { ok: true; connection: ConnectionRecord }
  | {
      ok: false;
      reason: GrantRefusalReason;
      /** The connection when it exists (its id goes into the session's audit). */
      connection: ConnectionRecord | null;
      /** Safe to show the agent: names the agent and connection, never a credential. */
      message: string;
      /** For grant refusals: what happened to the grant ("the grant was revoked"), when there was one. */
      detail?: string;
    };

/**
 * The protocol-neutral access check, run once an agent has authenticated: the connection it asked for
 * must exist and be of the protocol it came in with, and the agent must hold an active grant for it
 * (a revoked or expired grant is told apart from none at all). Each gateway turns a refusal into its
 * protocol's error (an ErrorResponse with SQLSTATE, a message on the SSH channel's stderr).
 */
export function authorizeGrant(
  store: Pick<StoreApi, 'connections' | 'grants'>,
  agent: { id: string; name: string },
  connectionName: string,
  kind: ConnectionRecord['kind'],
  now = Date.now(),
): GrantCheck {
  const connection = store.connections.getByName(connectionName);
  if (!connection) return { ok: false, reason: 'unknown_connection', connection: null, message: `connection "${connectionName}" does not exist` };
  if (connection.kind !== kind) {
    return { ok: false, reason: 'wrong_kind', connection, message: `connection "${connectionName}" is not a${kind === 'ssh' ? 'n ssh' : ` ${kind}`} connection` };
  }
  if (store.grants.findActive(agent.id, connection.id, now)) return { ok: true, connection };
  const past = store.grants.list({ agentId: agent.id, connectionId: connection.id, includeInactive: true, now });
  const reason = past.some((g) => g.revokedAt !== null) ? 'grant_revoked' : past.length ? 'grant_expired' : 'no_grant';
  return {
    ok: false,
    reason,
    connection,
    message: `agent "${agent.name}" has no active grant for connection "${connectionName}"`,
    ...(reason === 'grant_revoked' ? { detail: 'the grant was revoked' } : reason === 'grant_expired' ? { detail: 'the grant has expired' } : {}),
  };
}
