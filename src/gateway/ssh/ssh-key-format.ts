import { createHash } from 'node:crypto';
import type { ParsedKey } from 'ssh2';
import { sshUtils } from './ssh2-runtime';
import { invalid } from '../core/errors';

/** A public key as OpenSSH writes it in a `.pub` file, decoded. */
export interface SshPublicKey {
  /** Key type as on the wire: ssh-ed25519, ssh-rsa, ecdsa-sha2-nistp256 ... */
  algo: string;
  /** The SSH wire encoding of the public key (what `.pub` files hold in base64). */
  blob: Buffer;
  comment: string;
  /** OpenSSH's fingerprint form: `SHA256:` + unpadded base64 of SHA-256(blob). */
  fingerprint: string;
}

/** OpenSSH-style fingerprint of a public key blob (`ssh-keygen -lf` prints the same string). */
export function sshFingerprint(blob: Buffer): string {
  return 'SHA256:' + createHash('sha256').update(blob).digest('base64').replace(/=+$/, '');
}

/**
 * Parse one public key line (`ssh-ed25519 AAAA... comment`) as given to `gatehouse agent add --ssh-key`.
 * Throws an `invalid` GatehouseError for anything that is not exactly one public key (private keys
 * included: they must never be sent where a public key is expected).
 */
export function parsePublicKey(text: string): SshPublicKey {
  const line = text.trim();
  if (/PRIVATE KEY/.test(line)) throw invalid('this is a private key; give the public key (the .pub file)');
  const parsed = sshUtils().parseKey(line);
  if (parsed instanceof Error) throw invalid(`not an SSH public key: ${parsed.message}`);
  const key = (Array.isArray(parsed) ? parsed[0] : parsed) as ParsedKey;
  if (key.isPrivateKey()) throw invalid('this is a private key; give the public key (the .pub file)');
  const blob = key.getPublicSSH();
  return { algo: key.type, blob, comment: key.comment ?? '', fingerprint: sshFingerprint(blob) };
}

/**
 * Check that `text` is an unencrypted private key that ssh2 can use (the credential of an SSH connection).
 * Returns its public key's fingerprint (safe to show); throws `invalid` otherwise.
 */
export function checkPrivateKey(text: string): string {
  const parsed = sshUtils().parseKey(text);
  if (parsed instanceof Error) throw invalid(`not a usable SSH private key: ${parsed.message.replace(/passphrase/i, 'passphrase (encrypted keys are not supported)')}`);
  const key = (Array.isArray(parsed) ? parsed[0] : parsed) as ParsedKey;
  if (!key.isPrivateKey()) throw invalid('this is a public key; the connection needs the private key');
  return sshFingerprint(key.getPublicSSH());
}
