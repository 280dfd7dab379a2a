import { createHash, createHmac, pbkdf2Sync, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * SCRAM-SHA-256 (RFC 5802, RFC 7677) as PostgreSQL uses it: the verifier format, the server side of
 * the exchange (agents authenticating to the gateway) and the client side (the gateway authenticating
 * to an upstream). Channel binding is not offered (no -PLUS mechanism).
 */

export interface ScramVerifier {
  iterations: number;
  salt: Buffer;
  storedKey: Buffer;
  serverKey: Buffer;
}

/** A malformed or out-of-order SCRAM message; the message is safe to show to the peer. */
export class ScramError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ScramError';
  }
}

const hmac = (key: Buffer, data: string | Buffer) => createHmac('sha256', key).update(data).digest();
const sha256 = (data: Buffer) => createHash('sha256').update(data).digest();
const xor = (a: Buffer, b: Buffer) => Buffer.from(a.map((v, i) => v ^ b[i]));

/** SaltedPassword := Hi(Normalize(password), salt, i). SASLprep is approximated by NFKC normalisation. */
function saltedPassword(password: string, salt: Buffer, iterations: number): Buffer {
  return pbkdf2Sync(Buffer.from(password.normalize('NFKC'), 'utf8'), salt, iterations, 32, 'sha256');
}

/** Build a verifier for a new secret, in PostgreSQL's stored format. */
export function createScramVerifier(password: string, iterations = 4096): string {
  const salt = randomBytes(16);
  const salted = saltedPassword(password, salt, iterations);
  const storedKey = sha256(hmac(salted, 'Client Key'));
  const serverKey = hmac(salted, 'Server Key');
  return `SCRAM-SHA-256$${iterations}:${salt.toString('base64')}$${storedKey.toString('base64')}:${serverKey.toString('base64')}`;
}

/** Parse `SCRAM-SHA-256$<iter>:<salt>$<StoredKey>:<ServerKey>`; throws ScramError if malformed. */
export function parseScramVerifier(text: string): ScramVerifier {
  const m = /^SCRAM-SHA-256\$(\d+):([A-Za-z0-9+/=]+)\$([A-Za-z0-9+/=]+):([A-Za-z0-9+/=]+)$/.exec(text);
  if (!m) throw new ScramError('malformed SCRAM verifier');
  const v = { iterations: Number(m[1]), salt: Buffer.from(m[2], 'base64'), storedKey: Buffer.from(m[3], 'base64'), serverKey: Buffer.from(m[4], 'base64') };
  if (v.iterations < 1 || v.storedKey.length !== 32 || v.serverKey.length !== 32) throw new ScramError('malformed SCRAM verifier');
  return v;
}

/** Check a cleartext password against a verifier (used for password auth over TLS). Timing-safe. */
export function verifyPasswordWithVerifier(password: string, verifierText: string): boolean {
  const v = parseScramVerifier(verifierText);
  const salted = saltedPassword(password, v.salt, v.iterations);
  return timingSafeEqual(sha256(hmac(salted, 'Client Key')), v.storedKey);
}

/** Parse `a=1,b=2` attributes of a SCRAM message. */
function attributes(msg: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of msg.split(',')) {
    const eq = part.indexOf('=');
    if (eq !== 1) throw new ScramError('malformed SCRAM message');
    out.set(part[0], part.slice(2));
  }
  return out;
}

/**
 * Server side of one exchange. With a null verifier (unknown or refused agent) it runs a full exchange
 * against a random verifier that no proof matches, so the client cannot tell agents that exist from
 * agents that don't.
 */
export class ScramServerExchange {
  private readonly verifier: ScramVerifier;
  private clientFirstBare = '';
  private serverFirst = '';
  private nonce = '';
  private gs2Header = '';
  private state: 'first' | 'final' | 'done' = 'first';

  constructor(verifier: ScramVerifier | null) {
    this.verifier = verifier ?? { iterations: 4096, salt: randomBytes(16), storedKey: randomBytes(32), serverKey: randomBytes(32) };
  }

  /** Handle client-first-message; returns server-first-message. */
  handleClientFirst(message: string): string {
    if (this.state !== 'first') throw new ScramError('unexpected SCRAM message');
    // gs2-header: "n,," (no binding) or "y,," (client supports binding, thinks server doesn't).
    const m = /^([ny]),(a=[^,]*)?,(.*)$/.exec(message);
    if (!m) {
      if (message.startsWith('p=')) throw new ScramError('channel binding is not supported by this server');
      throw new ScramError('malformed SCRAM client-first-message');
    }
    this.gs2Header = message.slice(0, message.length - m[3].length);
    this.clientFirstBare = m[3];
    const attrs = attributes(this.clientFirstBare);
    const clientNonce = attrs.get('r');
    if (!clientNonce || !/^[\x21-\x2b\x2d-\x7e]+$/.test(clientNonce)) throw new ScramError('malformed SCRAM client nonce');
    this.nonce = clientNonce + randomBytes(18).toString('base64');
    this.serverFirst = `r=${this.nonce},s=${this.verifier.salt.toString('base64')},i=${this.verifier.iterations}`;
    this.state = 'final';
    return this.serverFirst;
  }

  /** Handle client-final-message; on a valid proof returns server-final-message. */
  handleClientFinal(message: string): { ok: true; serverFinal: string } | { ok: false } {
    if (this.state !== 'final') throw new ScramError('unexpected SCRAM message');
    this.state = 'done';
    const proofAt = message.lastIndexOf(',p=');
    if (proofAt < 0) throw new ScramError('malformed SCRAM client-final-message');
    const withoutProof = message.slice(0, proofAt);
    const attrs = attributes(withoutProof);
    if (attrs.get('c') !== Buffer.from(this.gs2Header).toString('base64')) throw new ScramError('SCRAM channel binding data does not match');
    if (attrs.get('r') !== this.nonce) throw new ScramError('SCRAM nonce does not match');
    const proof = Buffer.from(message.slice(proofAt + 3), 'base64');
    if (proof.length !== 32) throw new ScramError('malformed SCRAM client proof');
    const authMessage = `${this.clientFirstBare},${this.serverFirst},${withoutProof}`;
    const clientSignature = hmac(this.verifier.storedKey, authMessage);
    const clientKey = xor(proof, clientSignature);
    if (!timingSafeEqual(sha256(clientKey), this.verifier.storedKey)) return { ok: false };
    const serverSignature = hmac(this.verifier.serverKey, authMessage);
    return { ok: true, serverFinal: `v=${serverSignature.toString('base64')}` };
  }
}

/** Client side of one exchange (the gateway logging in to an upstream). */
export class ScramClientExchange {
  private readonly clientNonce = randomBytes(18).toString('base64');
  private clientFirstBare = '';
  private expectedServerSignature: Buffer | null = null;

  constructor(private readonly password: string) {}

  /** client-first-message. The user name is empty: PostgreSQL uses the startup packet's. */
  clientFirst(): string {
    this.clientFirstBare = `n=,r=${this.clientNonce}`;
    return `n,,${this.clientFirstBare}`;
  }

  /** Handle server-first-message; returns client-final-message. */
  handleServerFirst(message: string): string {
    const attrs = attributes(message);
    const nonce = attrs.get('r');
    const salt = attrs.get('s');
    const iterations = Number(attrs.get('i'));
    if (!nonce || !nonce.startsWith(this.clientNonce) || nonce.length === this.clientNonce.length) throw new ScramError('server nonce is invalid');
    if (!salt || !Number.isInteger(iterations) || iterations < 1) throw new ScramError('malformed SCRAM server-first-message');
    const salted = saltedPassword(this.password, Buffer.from(salt, 'base64'), iterations);
    const clientKey = hmac(salted, 'Client Key');
    const storedKey = sha256(clientKey);
    const withoutProof = `c=${Buffer.from('n,,').toString('base64')},r=${nonce}`;
    const authMessage = `${this.clientFirstBare},${message},${withoutProof}`;
    const proof = xor(clientKey, hmac(storedKey, authMessage));
    this.expectedServerSignature = hmac(hmac(salted, 'Server Key'), authMessage);
    return `${withoutProof},p=${proof.toString('base64')}`;
  }

  /** Check server-final-message: a server that doesn't know the password can't produce it. */
  verifyServerFinal(message: string): void {
    const attrs = attributes(message);
    if (attrs.has('e')) throw new ScramError(`server rejected authentication: ${attrs.get('e')}`);
    const v = Buffer.from(attrs.get('v') ?? '', 'base64');
    if (!this.expectedServerSignature || v.length !== 32 || !timingSafeEqual(v, this.expectedServerSignature)) {
      throw new ScramError('server signature is invalid');
    }
  }
}
