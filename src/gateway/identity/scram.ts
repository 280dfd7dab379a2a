import { createHash, createHmac, pbkdf2, pbkdf2Sync, randomBytes, timingSafeEqual } from 'node:crypto';
import { scramPasswordBytes } from './saslprep';

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

/** A malformed, hostile or out-of-order SCRAM message; the message is safe to show to the peer. */
export class ScramError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ScramError';
  }
}

/**
 * The most PBKDF2 iterations the client side accepts from a server. PostgreSQL's default is 4096; a
 * hostile upstream asking for billions would otherwise tie up a worker thread for minutes.
 */
export const MAX_CLIENT_ITERATIONS = 1_000_000;

const KEY_LENGTH = 32;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
/** printable = %x21-2B / %x2D-7E (no comma), RFC 5802. */
const NONCE = /^[\x21-\x2b\x2d-\x7e]+$/;

const hmac = (key: Buffer, data: string | Buffer) => createHmac('sha256', key).update(data).digest();
const sha256 = (data: Buffer) => createHash('sha256').update(data).digest();
const xor = (a: Buffer, b: Buffer) => {
  const out = Buffer.allocUnsafe(a.length);
  for (let i = 0; i < a.length; i++) out[i] = a[i] ^ b[i];
  return out;
};
const decodeBase64 = (text: string | undefined): Buffer | null => (text !== undefined && BASE64.test(text) ? Buffer.from(text, 'base64') : null);

/** SaltedPassword := Hi(SASLprep(password), salt, i). */
function saltedPassword(password: string, salt: Buffer, iterations: number): Buffer {
  return pbkdf2Sync(scramPasswordBytes(password), salt, iterations, KEY_LENGTH, 'sha256');
}

function saltedPasswordAsync(password: string, salt: Buffer, iterations: number): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    pbkdf2(scramPasswordBytes(password), salt, iterations, KEY_LENGTH, 'sha256', (err, key) => (err ? reject(err) : resolve(key))),
  );
}

/** Build a verifier for a new secret, in PostgreSQL's stored format `SCRAM-SHA-256$<iter>:<salt>$<StoredKey>:<ServerKey>`. */
export function createScramVerifier(password: string, iterations = 4096): string {
  if (!Number.isSafeInteger(iterations) || iterations < 1) throw new ScramError('SCRAM iteration count must be a positive integer');
  const salt = randomBytes(16);
  const salted = saltedPassword(password, salt, iterations);
  const storedKey = sha256(hmac(salted, 'Client Key'));
  const serverKey = hmac(salted, 'Server Key');
  return `SCRAM-SHA-256$${iterations}:${salt.toString('base64')}$${storedKey.toString('base64')}:${serverKey.toString('base64')}`;
}

/** Parse a verifier in PostgreSQL's stored format; throws ScramError if it is malformed. */
export function parseScramVerifier(text: string): ScramVerifier {
  const m = /^SCRAM-SHA-256\$(\d{1,10}):([^$:]+)\$([^$:]+):([^$:]+)$/.exec(text);
  const salt = decodeBase64(m?.[2]);
  const storedKey = decodeBase64(m?.[3]);
  const serverKey = decodeBase64(m?.[4]);
  const iterations = Number(m?.[1]);
  if (!m || !salt || !storedKey || !serverKey || salt.length === 0 || iterations < 1 || storedKey.length !== KEY_LENGTH || serverKey.length !== KEY_LENGTH) {
    throw new ScramError('malformed SCRAM verifier');
  }
  return { iterations, salt, storedKey, serverKey };
}

/**
 * Check a cleartext password against a stored verifier, in constant time with respect to the key. Used
 * when an agent authenticates with a cleartext password over TLS.
 */
export function verifyPasswordWithVerifier(password: string, verifierText: string): boolean {
  const v = parseScramVerifier(verifierText);
  const salted = saltedPassword(password, v.salt, v.iterations);
  return timingSafeEqual(sha256(hmac(salted, 'Client Key')), v.storedKey);
}

/**
 * Parse `k=v,k=v` attributes in order. Each attribute name is one letter; values may contain '='.
 * Returns [name, value] pairs so callers can check the order RFC 5802 prescribes.
 */
function attributes(msg: string): [string, string][] {
  const out: [string, string][] = [];
  for (const part of msg.split(',')) {
    if (part.length < 2 || part[1] !== '=' || !/^[A-Za-z]$/.test(part[0])) throw new ScramError('malformed SCRAM message');
    out.push([part[0], part.slice(2)]);
  }
  return out;
}

/** `saslname` escaping of RFC 5802 (',' and '=' are escaped). */
const saslName = (name: string) => name.replace(/=/g, '=3D').replace(/,/g, '=2C');

/** A per-process key for mock salts, unless the caller supplies a persistent one. */
const processMockKey = randomBytes(32);

export interface ScramServerOptions {
  /**
   * For a null verifier: the user name the client claimed. The mock salt is derived from it, so repeated
   * attempts for the same unknown name see the same salt, exactly like a real user (PostgreSQL's
   * scram_mock_salt). Without it, the salt would be fresh each time and give the game away.
   */
  mockUser?: string;
  /** Secret the mock salt is derived with; pass a persistent one so the salt survives restarts. */
  mockKey?: Buffer;
  /** Iterations shown for a mock verifier; should match the real verifiers (default 4096). */
  mockIterations?: number;
  /** The server's part of the nonce. Only for tests reproducing published vectors; random otherwise. */
  serverNonce?: string;
}

/**
 * Server side of one exchange. With a null verifier (unknown or refused user) it runs the same exchange
 * against a mock verifier that no proof matches, so the client cannot tell users that exist from users
 * that don't: same messages, same work, same final error.
 */
export class ScramServerExchange {
  private readonly verifier: ScramVerifier;
  private readonly serverNoncePart: string;
  private clientFirstBare = '';
  private serverFirst = '';
  private nonce = '';
  private gs2Header = '';
  private state: 'first' | 'final' | 'done' = 'first';

  constructor(verifier: ScramVerifier | null, opts: ScramServerOptions = {}) {
    this.verifier = verifier ?? {
      iterations: opts.mockIterations ?? 4096,
      salt: hmac(opts.mockKey ?? processMockKey, `gatehouse scram mock salt\0${opts.mockUser ?? ''}`).subarray(0, 16),
      storedKey: randomBytes(KEY_LENGTH),
      serverKey: randomBytes(KEY_LENGTH),
    };
    this.serverNoncePart = opts.serverNonce ?? randomBytes(18).toString('base64');
  }

  /** Handle the client-first-message (from SASLInitialResponse); returns the server-first-message. */
  handleClientFirst(message: string): string {
    if (this.state !== 'first') throw new ScramError('unexpected SCRAM message');
    this.state = 'done';
    if (message.startsWith('p=')) throw new ScramError('channel binding is not supported (the server does not offer SCRAM-SHA-256-PLUS)');
    // gs2-header: "n,," (client has no binding) or "y,," (client has binding but thinks the server hasn't).
    const m = /^([ny]),([^,]*),/.exec(message);
    if (!m) throw new ScramError('malformed SCRAM client-first-message');
    if (m[2] !== '') throw new ScramError('SCRAM authorization identity is not supported');
    this.gs2Header = m[0];
    this.clientFirstBare = message.slice(m[0].length);
    const attrs = attributes(this.clientFirstBare);
    if (attrs[0]?.[0] === 'm') throw new ScramError('SCRAM mandatory extensions are not supported');
    // The user name is ignored, as in PostgreSQL: the startup packet's user is authoritative.
    if (attrs[0]?.[0] !== 'n' || attrs[1]?.[0] !== 'r') throw new ScramError('malformed SCRAM client-first-message');
    const clientNonce = attrs[1][1];
    if (!NONCE.test(clientNonce)) throw new ScramError('malformed SCRAM client nonce');
    this.nonce = clientNonce + this.serverNoncePart;
    this.serverFirst = `r=${this.nonce},s=${this.verifier.salt.toString('base64')},i=${this.verifier.iterations}`;
    this.state = 'final';
    return this.serverFirst;
  }

  /**
   * Handle the client-final-message. `ok: true` carries the server-final-message to send with
   * AuthenticationSASLFinal; `ok: false` means a wrong password (or an unknown user). Malformed input
   * throws ScramError.
   */
  handleClientFinal(message: string): { ok: true; serverFinal: string } | { ok: false } {
    if (this.state !== 'final') throw new ScramError('unexpected SCRAM message');
    this.state = 'done';
    const proofAt = message.lastIndexOf(',p=');
    if (proofAt < 0) throw new ScramError('malformed SCRAM client-final-message');
    const withoutProof = message.slice(0, proofAt);
    const attrs = attributes(withoutProof);
    if (attrs[0]?.[0] !== 'c' || attrs[1]?.[0] !== 'r') throw new ScramError('malformed SCRAM client-final-message');
    if (attrs[0][1] !== Buffer.from(this.gs2Header).toString('base64')) throw new ScramError('SCRAM channel binding data does not match');
    if (attrs[1][1] !== this.nonce) throw new ScramError('SCRAM nonce does not match');
    const proof = decodeBase64(message.slice(proofAt + 3));
    if (!proof || proof.length !== KEY_LENGTH) throw new ScramError('malformed SCRAM client proof');
    const authMessage = `${this.clientFirstBare},${this.serverFirst},${withoutProof}`;
    const clientKey = xor(proof, hmac(this.verifier.storedKey, authMessage));
    if (!timingSafeEqual(sha256(clientKey), this.verifier.storedKey)) return { ok: false };
    return { ok: true, serverFinal: `v=${hmac(this.verifier.serverKey, authMessage).toString('base64')}` };
  }
}

/**
 * Client side of one exchange (the gateway logging in to an upstream). The server's signature is checked
 * at the end, so a server that does not hold the password's keys cannot complete the exchange.
 */
export class ScramClientExchange {
  private readonly clientNonce: string;
  private readonly user: string;
  private clientFirstBare = '';
  private expectedServerSignature: Buffer | null = null;
  private state: 'first' | 'server-first' | 'server-final' | 'done' = 'first';

  /**
   * `opts.user` defaults to empty (PostgreSQL takes the startup packet's user); `opts.nonce` is only for
   * tests reproducing published vectors.
   */
  constructor(
    private readonly password: string,
    opts: { user?: string; nonce?: string } = {},
  ) {
    this.clientNonce = opts.nonce ?? randomBytes(18).toString('base64');
    this.user = opts.user ?? '';
  }

  /** The client-first-message, for SASLInitialResponse. */
  clientFirst(): string {
    if (this.state !== 'first') throw new ScramError('unexpected SCRAM step');
    this.clientFirstBare = `n=${saslName(this.user)},r=${this.clientNonce}`;
    this.state = 'server-first';
    return `n,,${this.clientFirstBare}`;
  }

  /** Handle the server-first-message; returns the client-final-message. Blocks for the PBKDF2 work. */
  handleServerFirst(message: string): string {
    const { salt, iterations } = this.parseServerFirst(message);
    return this.finish(message, saltedPassword(this.password, salt, iterations));
  }

  /** Same as handleServerFirst, with PBKDF2 on the thread pool so the event loop keeps relaying. */
  async handleServerFirstAsync(message: string): Promise<string> {
    const { salt, iterations } = this.parseServerFirst(message);
    return this.finish(message, await saltedPasswordAsync(this.password, salt, iterations));
  }

  /** Check the server-final-message; throws ScramError unless the server proved it knows the keys. */
  verifyServerFinal(message: string): void {
    if (this.state !== 'server-final' || !this.expectedServerSignature) throw new ScramError('unexpected SCRAM message');
    this.state = 'done';
    const attrs = attributes(message);
    if (attrs[0]?.[0] === 'e') {
      const reason = /^[a-z0-9-]{1,64}$/.test(attrs[0][1]) ? attrs[0][1] : 'other-error';
      throw new ScramError(`server rejected SCRAM authentication: ${reason}`);
    }
    const v = attrs[0]?.[0] === 'v' ? decodeBase64(attrs[0][1]) : null;
    if (!v || v.length !== KEY_LENGTH || !timingSafeEqual(v, this.expectedServerSignature)) {
      throw new ScramError('SCRAM server signature is invalid');
    }
  }

  private parseServerFirst(message: string): { salt: Buffer; iterations: number } {
    if (this.state !== 'server-first') throw new ScramError('unexpected SCRAM message');
    this.state = 'done';
    const attrs = attributes(message);
    if (attrs[0]?.[0] === 'm') throw new ScramError('SCRAM mandatory extensions are not supported');
    if (attrs[0]?.[0] !== 'r' || attrs[1]?.[0] !== 's' || attrs[2]?.[0] !== 'i') throw new ScramError('malformed SCRAM server-first-message');
    const nonce = attrs[0][1];
    if (!NONCE.test(nonce) || !nonce.startsWith(this.clientNonce) || nonce.length === this.clientNonce.length) {
      throw new ScramError('SCRAM server nonce is invalid');
    }
    const salt = decodeBase64(attrs[1][1]);
    if (!salt || salt.length === 0) throw new ScramError('malformed SCRAM salt');
    if (!/^[1-9]\d{0,9}$/.test(attrs[2][1])) throw new ScramError('malformed SCRAM iteration count');
    const iterations = Number(attrs[2][1]);
    if (iterations > MAX_CLIENT_ITERATIONS) throw new ScramError(`SCRAM iteration count ${iterations} exceeds the limit of ${MAX_CLIENT_ITERATIONS}`);
    return { salt, iterations };
  }

  private finish(serverFirst: string, salted: Buffer): string {
    const nonce = serverFirst.slice(2, serverFirst.indexOf(','));
    const clientKey = hmac(salted, 'Client Key');
    const withoutProof = `c=${Buffer.from('n,,').toString('base64')},r=${nonce}`;
    const authMessage = `${this.clientFirstBare},${serverFirst},${withoutProof}`;
    const proof = xor(clientKey, hmac(sha256(clientKey), authMessage));
    this.expectedServerSignature = hmac(hmac(salted, 'Server Key'), authMessage);
    this.state = 'server-final';
    return `${withoutProof},p=${proof.toString('base64')}`;
  }
}
