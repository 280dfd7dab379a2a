import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { ParsedKey } from 'ssh2';
import { sshUtils } from './ssh2-runtime';
import { assertPrivateFile, createPrivateFileOnce } from '../identity/private-file';
import { sshFingerprint } from './ssh-key-format';

/** The SSH listener's identity: the private key (OpenSSH format) and its fingerprint. */
export interface SshHostKey {
  privateKey: string;
  /** `SHA256:...`, what OpenSSH shows on first connect and `ssh-keygen -lf` prints. */
  fingerprint: string;
  generated: boolean;
}

/** File name of the gateway's SSH host key in the data dir (same name as OpenSSH's). */
export const SSH_HOST_KEY_FILE = 'ssh_host_ed25519_key';

/**
 * Load `<dataDir>/ssh_host_ed25519_key`, creating it on first start (ed25519, mode 0600, published
 * atomically so two starting processes agree on one key). Agents pin this key in known_hosts, so it
 * must stay the same across restarts. Refuses a key file other users can read.
 */
export function loadOrCreateSshHostKey(dataDir: string): SshHostKey {
  const file = path.join(dataDir, SSH_HOST_KEY_FILE);
  let generated = false;
  if (!existsSync(file)) {
    generated = createPrivateFileOnce(file, generateParsableKey());
  }
  assertPrivateFile(file);
  const privateKey = readFileSync(file, 'utf8');
  const parsed = sshUtils().parseKey(privateKey);
  if (parsed instanceof Error) throw new Error(`${file} is not a usable SSH private key: ${parsed.message}`);
  const key = (Array.isArray(parsed) ? parsed[0] : parsed) as ParsedKey;
  return { privateKey, fingerprint: sshFingerprint(key.getPublicSSH()), generated };
}

/**
 * A new ed25519 private key in OpenSSH format that ssh2 can read back. ssh2's generator occasionally
 * (about 1 key in 250, measured) writes a key its own parser rejects as malformed; such a key would make
 * every later start fail, so it is never published.
 */
function generateParsableKey(): string {
  for (let i = 0; i < 20; i++) {
    const pair = sshUtils().generateKeyPairSync('ed25519', { comment: 'gatehouse' });
    if (!(sshUtils().parseKey(pair.private) instanceof Error)) return pair.private;
  }
  throw new Error('could not generate a usable SSH host key');
}
