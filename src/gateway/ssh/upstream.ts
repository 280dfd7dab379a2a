import type { BaseAgent, Client as SshClient, ConnectConfig } from 'ssh2';
import { ssh2Client } from './ssh2-runtime';
import type { ConnectionRecord } from '../store/records';
import type { SqliteSshRepo } from '../store/ssh-repo';
import type { SshCredential } from './ssh-credential';
import { sshFingerprint } from './ssh-key-format';

/** Where connecting upstream failed; the message is safe to show the agent (no credential in it). */
export class SshUpstreamError extends Error {
  constructor(
    readonly stage: 'tcp' | 'timeout' | 'host_key_mismatch' | 'auth' | 'handshake',
    message: string,
    readonly detail: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'SshUpstreamError';
  }
}

/** Ciphers in the order Gatehouse asks upstreams for (AES-GCM first: hardware AES in OpenSSL is fastest). */
export const CIPHER_PREFERENCE = [
  'aes128-gcm@openssh.com',
  'aes256-gcm@openssh.com',
  'chacha20-poly1305@openssh.com',
  'aes128-ctr',
  'aes192-ctr',
  'aes256-ctr',
] as const;

export interface SshUpstream {
  client: SshClient;
  hostKey: { fingerprint: string; pinnedNow: boolean };
}

/**
 * Log in to the connection's SSH server with the stored credential. The server's host key is checked
 * against the pin for this connection; the first successful check pins it (trust on first use), a
 * different key later fails with `host_key_mismatch` before any credential is sent. `agent` serves the
 * agent channels the host opens for sessions that ask for agent forwarding (it must offer no keys: the
 * login uses the stored credential only).
 */
export function connectSshUpstream(
  connection: ConnectionRecord,
  credential: SshCredential,
  pins: SqliteSshRepo,
  opts: { timeoutMs?: number; now?: () => number; agent?: BaseAgent } = {},
): Promise<SshUpstream> {
  const now = opts.now ?? Date.now;
  return new Promise((resolve, reject) => {
    const client = new (ssh2Client())();
    let mismatch: { pinned: string; offered: string } | null = null;
    let pinnedNow = false;
    let fingerprint = '';
    const config: ConnectConfig = {
      host: connection.host,
      port: connection.port,
      username: connection.username,
      readyTimeout: opts.timeoutMs ?? 15_000,
      keepaliveInterval: 30_000,
      algorithms: { cipher: [...CIPHER_PREFERENCE] },
      hostVerifier: (key: Buffer) => {
        fingerprint = sshFingerprint(key);
        const pinned = pins.getHostPin(connection.id);
        if (pinned) {
          if (pinned.fingerprint === fingerprint) return true;
          mismatch = { pinned: pinned.fingerprint, offered: fingerprint };
          return false;
        }
        const algo = key.subarray(4, 4 + key.readUInt32BE(0)).toString('latin1');
        const kept = pins.pinHostKey({ connectionId: connection.id, host: connection.host, port: connection.port, algo, fingerprint, blob: key, pinnedAt: now() });
        if (kept.fingerprint !== fingerprint) {
          mismatch = { pinned: kept.fingerprint, offered: fingerprint };
          return false;
        }
        pinnedNow = true;
        return true;
      },
      ...('privateKey' in credential ? { privateKey: credential.privateKey } : { password: credential.password }),
      ...(opts.agent ? { agent: opts.agent } : {}),
    };
    let settled = false;
    client.once('ready', () => {
      settled = true;
      client.removeAllListeners('error');
      client.on('error', () => {});
      resolve({ client, hostKey: { fingerprint, pinnedNow } });
    });
    client.on('error', (err: Error & { level?: string; code?: string }) => {
      if (settled) return;
      settled = true;
      client.end();
      const where = `${connection.host}:${connection.port}`;
      if (mismatch) {
        reject(
          new SshUpstreamError(
            'host_key_mismatch',
            `the host key of connection "${connection.name}" (${where}) changed: pinned ${mismatch.pinned}, offered ${mismatch.offered}; refusing to connect. If the change is expected, remove and re-add the connection.`,
            mismatch,
          ),
        );
      } else if (err.level === 'client-authentication') {
        reject(new SshUpstreamError('auth', `gatehouse could not log in to connection "${connection.name}" (${where}) as "${connection.username}": the upstream refused the stored credential`));
      } else if (err.level === 'client-timeout') {
        reject(new SshUpstreamError('timeout', `connection "${connection.name}" (${where}) did not answer in time`));
      } else if (err.level === 'client-socket' || err.code) {
        reject(new SshUpstreamError('tcp', `connection "${connection.name}" (${where}) is unreachable: ${err.code ?? err.message}`));
      } else {
        reject(new SshUpstreamError('handshake', `SSH handshake with connection "${connection.name}" (${where}) failed: ${err.message}`));
      }
    });
    client.connect(config);
  });
}
