import { randomBytes } from 'node:crypto';

/** A new agent secret: `ghs_` + 32 random bytes (base64url). Shown once; only its SCRAM verifier is kept. */
export function generateAgentSecret(): string {
  return 'ghs_' + randomBytes(32).toString('base64url');
}
