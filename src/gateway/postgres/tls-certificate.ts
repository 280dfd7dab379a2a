import { X509Certificate, createPrivateKey } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { generate } from 'selfsigned';
import { GatehouseError } from '../core/errors';

export interface TlsCertificate {
  cert: string;
  key: string;
  /** SHA-256 fingerprint, as clients show it (AA:BB:...). */
  fingerprint256: string;
  generated: boolean;
}

/**
 * The certificate the gateway answers SSLRequest with: the user's own (certFile + keyFile, validated to
 * match), or a self-signed one generated on first run into `<dataDir>/tls/` (key mode 0600) and reused.
 */
export function loadOrCreateTlsCertificate(dataDir: string, opts: { certFile?: string; keyFile?: string } = {}): TlsCertificate {
  if (opts.certFile || opts.keyFile) {
    if (!opts.certFile || !opts.keyFile) throw new GatehouseError('invalid', 'give both a TLS certificate and its key');
    return { ...validate(readFileSync(opts.certFile, 'utf8'), readFileSync(opts.keyFile, 'utf8')), generated: false };
  }
  const dir = path.join(dataDir, 'tls');
  const certFile = path.join(dir, 'cert.pem');
  const keyFile = path.join(dir, 'key.pem');
  if (existsSync(certFile) && existsSync(keyFile)) {
    return { ...validate(readFileSync(certFile, 'utf8'), readFileSync(keyFile, 'utf8')), generated: false };
  }
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const pems = generate([{ name: 'commonName', value: 'gatehouse' }], {
    days: 730,
    keySize: 2048,
    algorithm: 'sha256',
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
      { name: 'extKeyUsage', serverAuth: true },
      { name: 'subjectAltName', altNames: [{ type: 2, value: 'localhost' }, { type: 7, ip: '127.0.0.1' }, { type: 7, ip: '::1' }] },
    ],
  });
  writeFileSync(keyFile, pems.private, { mode: 0o600 });
  writeFileSync(certFile, pems.cert, { mode: 0o644 });
  return { ...validate(pems.cert, pems.private), generated: true };
}

function validate(cert: string, key: string): Omit<TlsCertificate, 'generated'> {
  let x509: X509Certificate;
  try {
    x509 = new X509Certificate(cert);
  } catch {
    throw new GatehouseError('invalid', 'the TLS certificate is not a valid PEM certificate');
  }
  let ok = false;
  try {
    ok = x509.checkPrivateKey(createPrivateKey(key));
  } catch {
    throw new GatehouseError('invalid', 'the TLS key is not a valid PEM private key');
  }
  if (!ok) throw new GatehouseError('invalid', 'the TLS key does not match the certificate');
  return { cert, key, fingerprint256: x509.fingerprint256 };
}
