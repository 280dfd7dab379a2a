import { X509Certificate } from 'node:crypto';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
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
});
