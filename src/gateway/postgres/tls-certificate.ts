import { X509Certificate, createPrivateKey, generateKeyPairSync } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type selfsignedModule from 'selfsigned';
import type { SelfsignedOptions } from 'selfsigned';
import { lazyRequire } from '../core/lazy-require';
import { GatehouseError } from '../core/errors';

/** Loaded only when a certificate is generated. */
const selfsigned = lazyRequire<typeof selfsignedModule>('selfsigned');
import { assertPrivateFile, replacePrivateFile } from '../identity/private-file';

export interface TlsCertificate {
  /** PEM certificate. */
  cert: string;
  /** PEM private key. */
  key: string;
  /** SHA-256 fingerprint, as clients show it (AA:BB:...). */
  fingerprint256: string;
  /** Whether this call generated the certificate (print the new fingerprint). */
  generated: boolean;
}

const SUBJECT = 'CN=gatehouse';
const VALID_DAYS = 730;
/** A generated certificate this close to its end is replaced at start-up. */
const RENEW_BEFORE_MS = 30 * 24 * 3600 * 1000;

/**
 * The certificate the gateway answers SSLRequest with. Called once at start-up.
 *
 * - With `certFile` and `keyFile`: the user's own pair, read and checked (valid PEM, key matches, not
 *   expired). Never modified.
 * - Otherwise a self-signed certificate (CN=gatehouse, SAN localhost, 127.0.0.1, ::1, RSA 2048, two
 *   years) generated on first run into `<dataDir>/tls/cert.pem` and `key.pem` (mode 0600) and reused
 *   after. A generated certificate is replaced when it is within 30 days of expiry, or when the pair no
 *   longer matches (a crash between writing the two files); `generated` then says so.
 */
export function loadOrCreateTlsCertificate(dataDir: string, opts: { certFile?: string; keyFile?: string } = {}): TlsCertificate {
  if (opts.certFile || opts.keyFile) {
    if (!opts.certFile || !opts.keyFile) throw new GatehouseError('invalid', 'give both a TLS certificate file and its key file');
    const pair = parse(readPem(opts.certFile, 'certificate'), readPem(opts.keyFile, 'key'));
    if (!pair.matches) throw new GatehouseError('invalid', `the TLS key ${opts.keyFile} does not match the certificate ${opts.certFile}`);
    if (Date.parse(pair.x509.validTo) <= Date.now()) {
      throw new GatehouseError('invalid', `the TLS certificate ${opts.certFile} expired on ${pair.x509.validTo}`);
    }
    return result(pair, false);
  }

  const dir = path.join(dataDir, 'tls');
  const certFile = path.join(dir, 'cert.pem');
  const keyFile = path.join(dir, 'key.pem');
  const pendingCert = `${certFile}.new`;
  if (existsSync(certFile) && existsSync(keyFile)) {
    assertPrivateFile(keyFile);
    let pair = parse(readPem(certFile, 'certificate'), readPem(keyFile, 'key'));
    if (!pair.matches && existsSync(pendingCert)) {
      // A generation was cut short after the new key was in place: finish it.
      const pending = parse(readPem(pendingCert, 'certificate'), pair.key);
      if (pending.matches) {
        renameSync(pendingCert, certFile);
        pair = pending;
      }
    }
    if (!pair.matches) {
      throw new GatehouseError('invalid', `the TLS key ${keyFile} does not match the certificate ${certFile}; fix the pair, or delete ${dir} to generate a new one`);
    }
    const validTo = Date.parse(pair.x509.validTo);
    const ours = pair.x509.subject === SUBJECT && pair.x509.issuer === SUBJECT;
    if (validTo - Date.now() > RENEW_BEFORE_MS) return result(pair, false);
    if (!ours) {
      if (validTo <= Date.now()) throw new GatehouseError('invalid', `the TLS certificate ${certFile} expired on ${pair.x509.validTo}; replace it, or delete ${dir} to generate one`);
      return result(pair, false);
    }
    // Ours and about to expire: generate a new one below.
  }

  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const { cert, key } = generateSelfSigned();
  // Two files cannot be replaced at once. The certificate waits in cert.pem.new until the key is in
  // place; a crash in between is finished at the next start (above) instead of leaving a broken pair.
  writeFileSync(pendingCert, cert, { mode: 0o644 });
  replacePrivateFile(keyFile, key);
  renameSync(pendingCert, certFile);
  return result(parse(cert, key), true);
}

function generateSelfSigned(): { cert: string; key: string } {
  // The RSA key comes from node:crypto (native, fast); selfsigned (node-forge) only builds and signs the
  // certificate. Without keyPair it would search for primes in JavaScript, blocking start-up for seconds.
  const pair = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const key = pair.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
  const options: SelfsignedOptions & { keyPair: { privateKey: string; publicKey: string } } = {
    keyPair: { privateKey: key, publicKey: pair.publicKey.export({ type: 'spki', format: 'pem' }) as string },
    days: VALID_DAYS,
    // A little slack for clients whose clock is behind the gateway's.
    notBeforeDate: new Date(Date.now() - 5 * 60 * 1000),
    algorithm: 'sha256',
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
      { name: 'extKeyUsage', serverAuth: true },
      { name: 'subjectAltName', altNames: [{ type: 2, value: 'localhost' }, { type: 7, ip: '127.0.0.1' }, { type: 7, ip: '::1' }] },
    ],
  };
  const pems = selfsigned().generate([{ name: 'commonName', value: 'gatehouse' }], options);
  return { cert: pems.cert, key };
}

function readPem(file: string, what: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new GatehouseError('invalid', `cannot read the TLS ${what} file ${file} (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
}

interface Parsed {
  cert: string;
  key: string;
  x509: X509Certificate;
  matches: boolean;
}

function parse(cert: string, key: string): Parsed {
  let x509: X509Certificate;
  try {
    x509 = new X509Certificate(cert);
  } catch {
    throw new GatehouseError('invalid', 'the TLS certificate is not a valid PEM certificate');
  }
  try {
    return { cert, key, x509, matches: x509.checkPrivateKey(createPrivateKey(key)) };
  } catch {
    throw new GatehouseError('invalid', 'the TLS key is not a valid PEM private key');
  }
}

const result = (p: Parsed, generated: boolean): TlsCertificate => ({ cert: p.cert, key: p.key, fingerprint256: p.x509.fingerprint256, generated });
