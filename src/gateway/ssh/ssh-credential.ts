import { invalid } from '../core/errors';
import type { SecretBox } from '../identity/secret-box';
import { checkPrivateKey } from './ssh-key-format';

/** How Gatehouse logs in to an SSH upstream: a private key or a password (never both). */
export type SshCredential = { privateKey: string } | { password: string };

/**
 * Validate and seal an SSH connection's credential (JSON inside the same SecretBox as PostgreSQL
 * passwords, bound to the connection id). Exactly one of `privateKey` and `password` must be given.
 */
export function sealSshCredential(box: SecretBox, connectionId: string, input: { password?: string; privateKey?: string }): Buffer {
  if ((input.password === undefined) === (input.privateKey === undefined)) {
    throw invalid('an ssh connection needs exactly one credential: a private key or a password');
  }
  if (input.privateKey !== undefined) {
    checkPrivateKey(input.privateKey);
    return box.seal(JSON.stringify({ privateKey: input.privateKey }), connectionId);
  }
  return box.seal(JSON.stringify({ password: input.password }), connectionId);
}

/** Open a credential sealed by `sealSshCredential`. Throws when it cannot be decrypted or parsed. */
export function openSshCredential(box: SecretBox, connectionId: string, sealed: Buffer): SshCredential {
  const parsed = JSON.parse(box.open(sealed, connectionId)) as Partial<{ privateKey: string; password: string }>;
  if (typeof parsed.privateKey === 'string') return { privateKey: parsed.privateKey };
  if (typeof parsed.password === 'string') return { password: parsed.password };
  throw new Error('sealed ssh credential has no key or password');
}
