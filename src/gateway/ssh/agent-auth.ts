import { randomBytes } from 'node:crypto';
import type { AuthContext } from 'ssh2';
import type { ParsedKey } from 'ssh2';
import { sshUtils } from './ssh2-runtime';
import { createScramVerifier, verifyPasswordWithVerifier } from '../identity/scram';
import type { AgentRecord } from '../store/records';
import type { StoreApi } from '../store/store-api';
import { sshFingerprint } from './ssh-key-format';

/**
 * What the SSH user name says. `conn` selects the connection (the agent is identified by its key);
 * `agent@conn` names both (needed for password login with the agent secret; allowed with keys too, and
 * then the key must belong to that agent). Names cannot contain '@', so the split is unambiguous.
 */
export function parseLoginName(username: string): { agentName: string | null; connectionName: string } {
  const at = username.lastIndexOf('@');
  if (at < 0) return { agentName: null, connectionName: username };
  return { agentName: username.slice(0, at), connectionName: username.slice(at + 1) };
}

/** The outcome of one authentication attempt. `pending`: a key probe that is fine so far (no signature yet). */
export type SshAuthResult =
  | { ok: true; agent: AgentRecord; method: 'publickey' | 'password'; keyFingerprint: string | null }
  | { ok: false; reason: string; method: string; keyFingerprint?: string }
  | { pending: true };

/**
 * Decide one SSH authentication attempt for the agent side: public key (registered with
 * `gatehouse agent add --ssh-key`, signature verified) or password (the agent secret, checked against
 * its SCRAM verifier). Disabled agents never authenticate.
 */
export function authenticateSshAgent(store: StoreApi, ctx: AuthContext): SshAuthResult {
  const { agentName } = parseLoginName(ctx.username);
  if (ctx.method === 'publickey') {
    const fingerprint = sshFingerprint(ctx.key.data);
    const row = store.ssh.findKey(fingerprint);
    const agent = row ? store.agents.getById(row.agentId) : undefined;
    if (!row || !agent) return { ok: false, reason: 'unknown_key', method: 'publickey', keyFingerprint: fingerprint };
    if (agentName !== null && agent.name !== agentName) return { ok: false, reason: 'key_of_other_agent', method: 'publickey', keyFingerprint: fingerprint };
    if (agent.disabled) return { ok: false, reason: 'agent_disabled', method: 'publickey', keyFingerprint: fingerprint };
    if (!ctx.signature || !ctx.blob) return { pending: true };
    const parsed = sshUtils().parseKey(`${row.algo} ${row.blob.toString('base64')}`);
    const key = (Array.isArray(parsed) ? parsed[0] : parsed) as ParsedKey | Error;
    if (key instanceof Error || key.verify(ctx.blob, ctx.signature, ctx.hashAlgo) !== true) {
      return { ok: false, reason: 'bad_signature', method: 'publickey', keyFingerprint: fingerprint };
    }
    return { ok: true, agent, method: 'publickey', keyFingerprint: fingerprint };
  }
  if (ctx.method === 'password') {
    if (agentName === null) return { ok: false, reason: 'password_needs_agent_name', method: 'password' };
    const agent = store.agents.getByName(agentName);
    // Verify against a verifier either way, so unknown names take as long as wrong passwords.
    const verifier = agent?.secretVerifier ?? DUMMY_VERIFIER;
    const good = verifyPasswordWithVerifier(ctx.password, verifier);
    if (!agent || !good) return { ok: false, reason: agent ? 'wrong_secret' : 'unknown_agent', method: 'password' };
    if (agent.disabled) return { ok: false, reason: 'agent_disabled', method: 'password' };
    return { ok: true, agent, method: 'password', keyFingerprint: null };
  }
  return { ok: false, reason: 'method_not_allowed', method: ctx.method };
}

/** A verifier for a random password nobody has (same iteration count as real agents' verifiers). */
const DUMMY_VERIFIER = createScramVerifier(randomBytes(24).toString('base64'));
