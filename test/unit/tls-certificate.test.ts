import { X509Certificate, generateKeyPairSync } from 'node:crypto';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import tls from 'node:tls';
import { generate } from 'selfsigned';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { GatehouseError } from '../../src/gateway/core/errors';
import { loadOrCreateTlsCertificate } from '../../src/gateway/postgres/tls-certificate';

const dirs: string[] = [];
const temp = () => {
  const d = mkdtempSync(path.join(os.tmpdir(), 'gh-tls-'));
  dirs.push(d);
  return d;
};
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

const FINGERPRINT = /^([0-9A-F]{2}:){31}[0-9A-F]{2}$/;

describe('loadOrCreateTlsCertificate', () => {
  it('generates once, then reuses the same certificate', () => {
    const dir = temp();
    const first = loadOrCreateTlsCertificate(dir);
    expect(first.generated).toBe(true);
    expect(first.fingerprint256).toMatch(FINGERPRINT);
    expect(first.cert).toContain('BEGIN CERTIFICATE');
    expect(first.key).toMatch(/BEGIN (RSA )?PRIVATE KEY/);
    const x509 = new X509Certificate(first.cert);
    expect(x509.subject).toContain('CN=gatehouse');
    expect(x509.checkHost('localhost')).toBe('localhost');
    expect(x509.checkIP('127.0.0.1')).toBe('127.0.0.1');
    expect(x509.fingerprint256).toBe(first.fingerprint256);

    const second = loadOrCreateTlsCertificate(dir);
    expect(second.generated).toBe(false);
    expect(second.fingerprint256).toBe(first.fingerprint256);
    expect(second.cert).toBe(first.cert);
    expect(second.key).toBe(first.key);
  }, 60_000);

  it('writes the key with mode 0600 and the files it returns', () => {
    const dir = temp();
    const gen = loadOrCreateTlsCertificate(dir);
    const keyFile = path.join(dir, 'tls', 'key.pem');
    const certFile = path.join(dir, 'tls', 'cert.pem');
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);
    expect(statSync(path.join(dir, 'tls')).mode & 0o077).toBe(0);
    expect(readFileSync(keyFile, 'utf8')).toBe(gen.key);
    expect(readFileSync(certFile, 'utf8')).toBe(gen.cert);
  }, 60_000);

  it('accepts a user-supplied certificate and key (the generated pair copied elsewhere)', () => {
    const src = temp();
    const gen = loadOrCreateTlsCertificate(src);
    const other = temp();
    const certFile = path.join(other, 'my-cert.pem');
    const keyFile = path.join(other, 'my-key.pem');
    copyFileSync(path.join(src, 'tls', 'cert.pem'), certFile);
    copyFileSync(path.join(src, 'tls', 'key.pem'), keyFile);
    const dataDir = temp();
    const user = loadOrCreateTlsCertificate(dataDir, { certFile, keyFile });
    expect(user.generated).toBe(false);
    expect(user.fingerprint256).toBe(gen.fingerprint256);
    expect(user.cert).toBe(gen.cert);
    // Nothing is generated into the data dir when the user supplies a pair.
    expect(() => statSync(path.join(dataDir, 'tls'))).toThrow();
  }, 60_000);

  it('rejects a key that does not match the certificate (two generated pairs, crossed)', () => {
    const a = temp();
    const b = temp();
    const genA = loadOrCreateTlsCertificate(a);
    const genB = loadOrCreateTlsCertificate(b);
    expect(genA.fingerprint256).not.toBe(genB.fingerprint256);
    const crossed = [
      { certFile: path.join(a, 'tls', 'cert.pem'), keyFile: path.join(b, 'tls', 'key.pem') },
      { certFile: path.join(b, 'tls', 'cert.pem'), keyFile: path.join(a, 'tls', 'key.pem') },
    ];
    for (const opts of crossed) {
      let err: unknown;
      try {
        loadOrCreateTlsCertificate(temp(), opts);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(GatehouseError);
      expect((err as GatehouseError).code).toBe('invalid');
      expect((err as Error).message).toMatch(/does not match/);
    }
    // A crossed pair left in a data dir's tls/ is refused as well, not silently regenerated.
    copyFileSync(path.join(b, 'tls', 'key.pem'), path.join(a, 'tls', 'key.pem'));
    expect(() => loadOrCreateTlsCertificate(a)).toThrow(/does not match/);
  }, 120_000);

  it('requires both files and valid PEM', () => {
    const src = temp();
    loadOrCreateTlsCertificate(src);
    const certFile = path.join(src, 'tls', 'cert.pem');
    const keyFile = path.join(src, 'tls', 'key.pem');
    expect(() => loadOrCreateTlsCertificate(temp(), { certFile })).toThrow(/both/);
    expect(() => loadOrCreateTlsCertificate(temp(), { keyFile })).toThrow(/both/);
    const junk = path.join(temp(), 'junk.pem');
    writeFileSync(junk, 'not a pem');
    expect(() => loadOrCreateTlsCertificate(temp(), { certFile: junk, keyFile })).toThrow(/not a valid PEM certificate/);
    expect(() => loadOrCreateTlsCertificate(temp(), { certFile, keyFile: junk })).toThrow(/not a valid PEM private key/);
  }, 60_000);

  it('is two years valid, for localhost, 127.0.0.1 and ::1, and usable for verify-full by a real TLS client', async () => {
    const dir = temp();
    const gen = loadOrCreateTlsCertificate(dir);
    const x509 = new X509Certificate(gen.cert);
    const days = (Date.parse(x509.validTo) - Date.now()) / 86_400_000;
    expect(days).toBeGreaterThan(729);
    expect(days).toBeLessThan(732);
    expect(Date.parse(x509.validFrom)).toBeLessThan(Date.now());
    expect(x509.subjectAltName).toBe('DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1');

    const server = tls.createServer({ cert: gen.cert, key: gen.key }, (s) => s.end('ok'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    const connect = (opts: tls.ConnectionOptions) =>
      new Promise<string>((resolve) => {
        const c = tls.connect({ host: '127.0.0.1', port, ...opts }, () => {
          resolve(`ok ${c.getPeerCertificate().fingerprint256}`);
          c.destroy();
        });
        c.on('error', (err) => resolve(`error ${(err as NodeJS.ErrnoException).code}`));
      });
    try {
      // The generated certificate as the trusted root, host name checked (libpq's verify-full does both).
      expect(await connect({ ca: gen.cert, servername: 'localhost' })).toBe(`ok ${gen.fingerprint256}`);
      expect(await connect({ ca: gen.cert })).toBe(`ok ${gen.fingerprint256}`);
      expect(await connect({ ca: gen.cert, servername: 'db.example.com' })).toBe('error ERR_TLS_CERT_ALTNAME_INVALID');
      expect(await connect({ ca: loadOrCreateTlsCertificate(temp()).cert, servername: 'localhost' })).toMatch(/^error /);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  }, 60_000);

  it('refuses a generated key that others can read', () => {
    const dir = temp();
    loadOrCreateTlsCertificate(dir);
    chmodSync(path.join(dir, 'tls', 'key.pem'), 0o644);
    expect(() => loadOrCreateTlsCertificate(dir)).toThrow(/chmod 600/);
  }, 60_000);

  it('replaces its own certificate when it is about to expire', () => {
    const dir = temp();
    mkdirSync(path.join(dir, 'tls'));
    const old = selfSigned('gatehouse', { days: 10 });
    writeFileSync(path.join(dir, 'tls', 'cert.pem'), old.cert);
    writeFileSync(path.join(dir, 'tls', 'key.pem'), old.key, { mode: 0o600 });
    const renewed = loadOrCreateTlsCertificate(dir);
    expect(renewed.generated).toBe(true);
    expect(renewed.fingerprint256).not.toBe(new X509Certificate(old.cert).fingerprint256);
    expect(readFileSync(path.join(dir, 'tls', 'cert.pem'), 'utf8')).toBe(renewed.cert);
    expect(loadOrCreateTlsCertificate(dir)).toMatchObject({ generated: false, fingerprint256: renewed.fingerprint256 });
  }, 60_000);

  it('keeps a certificate someone else issued until it expires, then says how to fix it', () => {
    const dir = temp();
    mkdirSync(path.join(dir, 'tls'));
    const theirs = selfSigned('db.example.com', { days: 10 });
    writeFileSync(path.join(dir, 'tls', 'cert.pem'), theirs.cert);
    writeFileSync(path.join(dir, 'tls', 'key.pem'), theirs.key, { mode: 0o600 });
    expect(loadOrCreateTlsCertificate(dir)).toMatchObject({ generated: false, cert: theirs.cert });
    const expired = selfSigned('db.example.com', { days: -1 });
    writeFileSync(path.join(dir, 'tls', 'cert.pem'), expired.cert);
    writeFileSync(path.join(dir, 'tls', 'key.pem'), expired.key, { mode: 0o600 });
    expect(() => loadOrCreateTlsCertificate(dir)).toThrow(/expired on .*delete/);
  });

  it('rejects an expired user-supplied certificate and unreadable files, naming them', () => {
    const dir = temp();
    const expired = selfSigned('gatehouse', { days: -1 });
    const certFile = path.join(dir, 'c.pem');
    const keyFile = path.join(dir, 'k.pem');
    writeFileSync(certFile, expired.cert);
    writeFileSync(keyFile, expired.key);
    expect(() => loadOrCreateTlsCertificate(temp(), { certFile, keyFile })).toThrow(`the TLS certificate ${certFile} expired on`);
    const missing = path.join(dir, 'missing.pem');
    expect(() => loadOrCreateTlsCertificate(temp(), { certFile: missing, keyFile })).toThrow(`cannot read the TLS certificate file ${missing} (ENOENT)`);
    expect(() => loadOrCreateTlsCertificate(temp(), { certFile, keyFile: missing })).toThrow(`cannot read the TLS key file ${missing} (ENOENT)`);
  });

  it('finishes a generation that was cut short between writing the key and the certificate', () => {
    const dir = temp();
    const before = loadOrCreateTlsCertificate(dir);
    // The state a crash leaves: the new key in place, the new certificate still in cert.pem.new.
    const next = selfSigned('gatehouse', { days: 730 });
    writeFileSync(path.join(dir, 'tls', 'cert.pem.new'), next.cert);
    writeFileSync(path.join(dir, 'tls', 'key.pem'), next.key, { mode: 0o600 });
    const after = loadOrCreateTlsCertificate(dir);
    expect(after.fingerprint256).toBe(new X509Certificate(next.cert).fingerprint256);
    expect(after.fingerprint256).not.toBe(before.fingerprint256);
    expect(readFileSync(path.join(dir, 'tls', 'cert.pem'), 'utf8')).toBe(next.cert);
    expect(existsSync(path.join(dir, 'tls', 'cert.pem.new'))).toBe(false);
  }, 60_000);
});

/** A self-signed certificate for `cn` that expires `days` days from now (negative: already expired). */
function selfSigned(cn: string, opts: { days: number }): { cert: string; key: string } {
  const pair = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const key = pair.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
  // selfsigned dates the certificate from "now" and checks it against "now": move the clock back a year
  // so that an expired certificate can be made.
  vi.useFakeTimers({ toFake: ['Date'] });
  try {
    vi.setSystemTime(Date.now() - 365 * 86_400_000);
    const pems = generate([{ name: 'commonName', value: cn }], {
      days: 365 + opts.days,
      algorithm: 'sha256',
      keyPair: { privateKey: key, publicKey: pair.publicKey.export({ type: 'spki', format: 'pem' }) as string },
    } as Parameters<typeof generate>[1]);
    return { cert: pems.cert, key };
  } finally {
    vi.useRealTimers();
  }
}
