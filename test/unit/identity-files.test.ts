import { randomBytes } from 'node:crypto';
import { chmodSync, copyFileSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadOrCreateAdminToken, tokenMatches } from '../../src/gateway/identity/admin-token';
import { fileKeyProvider } from '../../src/gateway/identity/key-provider';
import { SecretBox } from '../../src/gateway/identity/secret-box';
import { loadOrCreateTlsCertificate } from '../../src/gateway/postgres/tls-certificate';

const dirs: string[] = [];
const temp = () => {
  const d = mkdtempSync(path.join(os.tmpdir(), 'gh-id-'));
  dirs.push(d);
  return d;
};
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

describe('secret box', () => {
  it('opens only with the same key and row, and detects any changed byte', () => {
    const box = new SecretBox(randomBytes(32));
    const sealed = box.seal('upstream-password', 'conn-1');
    expect(box.open(sealed, 'conn-1')).toBe('upstream-password');
    expect(() => box.open(sealed, 'conn-2')).toThrow(/cannot be decrypted/);
    expect(() => new SecretBox(randomBytes(32)).open(sealed, 'conn-1')).toThrow(/cannot be decrypted/);
    for (let i = 0; i < sealed.length; i++) {
      const t = Buffer.from(sealed);
      t[i] ^= 1;
      expect(() => box.open(t, 'conn-1'), `byte ${i}`).toThrow(/cannot be decrypted/);
    }
  });
});

describe('master key file', () => {
  it('is created once with mode 0600 and refused when others can read it', () => {
    const dir = temp();
    const k1 = fileKeyProvider(dir).getKey();
    expect(statSync(path.join(dir, 'master.key')).mode & 0o777).toBe(0o600);
    expect(fileKeyProvider(dir).getKey().equals(k1)).toBe(true);
    chmodSync(path.join(dir, 'master.key'), 0o644);
    expect(() => fileKeyProvider(dir).getKey()).toThrow(/chmod 600/);
  });
});

describe('admin token', () => {
  it('is shown once and only its hash is kept', () => {
    const dir = temp();
    const first = loadOrCreateAdminToken(dir);
    expect(first.token).toMatch(/^gha_/);
    const second = loadOrCreateAdminToken(dir);
    expect(second.token).toBeNull();
    expect(tokenMatches(second.hash, first.token!)).toBe(true);
    expect(tokenMatches(second.hash, first.token! + 'x')).toBe(false);
  });
});

describe('TLS certificate', () => {
  it('is generated on first run, reused after, and a user-supplied pair must match', () => {
    const dir = temp();
    const gen = loadOrCreateTlsCertificate(dir);
    expect(gen.generated).toBe(true);
    expect(statSync(path.join(dir, 'tls/key.pem')).mode & 0o777).toBe(0o600);
    const again = loadOrCreateTlsCertificate(dir);
    expect(again).toMatchObject({ generated: false, fingerprint256: gen.fingerprint256 });

    const other = temp();
    const otherCert = loadOrCreateTlsCertificate(other);
    const own = temp();
    copyFileSync(path.join(dir, 'tls/cert.pem'), path.join(own, 'c.pem'));
    copyFileSync(path.join(dir, 'tls/key.pem'), path.join(own, 'k.pem'));
    expect(loadOrCreateTlsCertificate(temp(), { certFile: path.join(own, 'c.pem'), keyFile: path.join(own, 'k.pem') }).fingerprint256).toBe(gen.fingerprint256);
    expect(() => loadOrCreateTlsCertificate(temp(), { certFile: path.join(own, 'c.pem'), keyFile: path.join(other, 'tls/key.pem') })).toThrow(/does not match/);
    expect(otherCert.fingerprint256).not.toBe(gen.fingerprint256);
  });
});
