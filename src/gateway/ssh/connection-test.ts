import { lookup } from 'node:dns/promises';
import net from 'node:net';
import type { ConnectionTestResult } from '../../shared/contract';
import type { ConnectionRecord } from '../store/records';
import type { SqliteSshRepo } from '../store/ssh-repo';
import type { SshCredential } from './ssh-credential';
import { connectSshUpstream, SshUpstreamError } from './upstream';

/** The command run to prove the login can use the host. */
const TEST_COMMAND = 'true';

/**
 * Check an ssh connection end to end for an operator ("connections test"): resolve the host (dns), open
 * the TCP connection and the SSH handshake with the host key checked against the pin, pinning it when
 * none is pinned yet, as the gateway would (tcp, then tls: the contract's transport-security stage),
 * log in with the stored credential (auth), run `true` (query). Reports the stage that failed and why,
 * or the server's SSH version and host key. Never throws for upstream problems; never echoes the
 * credential.
 */
export async function testSshConnection(
  connection: ConnectionRecord,
  credential: () => SshCredential,
  pins: SqliteSshRepo,
  opts: { timeoutMs?: number; onPinned?: (fingerprint: string) => void } = {},
): Promise<ConnectionTestResult> {
  const t0 = performance.now();
  const result = (ok: boolean, stage: ConnectionTestResult['stage'], message: string, serverVersion: string | null = null): ConnectionTestResult => ({
    ok,
    stage,
    message,
    serverVersion,
    elapsedMs: Math.round(performance.now() - t0),
  });
  const where = `${connection.host}:${connection.port}`;
  if (!net.isIP(connection.host)) {
    try {
      await lookup(connection.host);
    } catch (err) {
      return result(false, 'dns', `cannot resolve "${connection.host}": ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
  }
  let cred: SshCredential;
  try {
    cred = credential();
  } catch {
    return result(false, 'auth', `gatehouse cannot use the stored credential of connection "${connection.name}"`);
  }
  let up;
  try {
    up = await connectSshUpstream(connection, cred, pins, { timeoutMs: opts.timeoutMs ?? 10_000 });
  } catch (err) {
    if (!(err instanceof SshUpstreamError)) return result(false, 'tcp', (err as Error).message);
    const stage = err.stage === 'tcp' || err.stage === 'timeout' ? 'tcp' : err.stage === 'auth' ? 'auth' : 'tls';
    return result(false, stage, err.message);
  }
  const client = up.client;
  if (up.hostKey.pinnedNow) opts.onPinned?.(up.hostKey.fingerprint);
  const version = (client as unknown as { _remoteVer?: string })._remoteVer ?? null;
  const key = `host key ${up.hostKey.fingerprint} (${up.hostKey.pinnedNow ? 'pinned now' : 'matches the pin'})`;
  try {
    const status = await new Promise<number | null>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no answer in time')), opts.timeoutMs ?? 10_000);
      client.exec(TEST_COMMAND, (err, ch) => {
        if (err) {
          clearTimeout(timer);
          return reject(err);
        }
        let code: number | null = null;
        ch.on('exit', (c: number | null) => (code = c));
        ch.on('close', () => {
          clearTimeout(timer);
          resolve(code);
        });
        ch.resume();
        ch.stderr.resume();
      });
    });
    if (status !== 0) return result(false, 'query', `logged in to ${where} (${key}), but \`${TEST_COMMAND}\` exited with status ${status ?? 'unknown (killed by a signal)'}`, version);
    return result(true, 'ok', `connected to ${where}, ${key}, logged in as "${connection.username}", ran \`${TEST_COMMAND}\``, version);
  } catch (err) {
    return result(false, 'query', `logged in to ${where} (${key}), but could not run \`${TEST_COMMAND}\`: ${(err as Error).message}`, version);
  } finally {
    client.end();
  }
}
