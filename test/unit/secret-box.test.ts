import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { GatehouseError } from '../../src/gateway/core/errors';
import { SecretBox } from '../../src/gateway/identity/secret-box';

const PLAINTEXT = 'upstream-pässword-ü-😀';
const AAD = 'conn-0001';

/** Run fn, expecting it to throw; return the error. */
function thrown(fn: () => unknown): Error {
  try {
    fn();
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected a throw');
}

describe('SecretBox', () => {
  it('round trips a secret bound to its row, with a fresh nonce each time', () => {
    const box = new SecretBox(randomBytes(32));
    const a = box.seal(PLAINTEXT, AAD);
    const b = box.seal(PLAINTEXT, AAD);
    expect(box.open(a, AAD)).toBe(PLAINTEXT);
    expect(box.open(b, AAD)).toBe(PLAINTEXT);
    expect(a.equals(b)).toBe(false);
    expect(a[0]).toBe(1);
    expect(a.length).toBe(1 + 12 + Buffer.byteLength(PLAINTEXT) + 16);
    expect(a.includes(Buffer.from(PLAINTEXT))).toBe(false);
    expect(box.open(box.seal('', AAD), AAD)).toBe('');
  });

  it('fails with the wrong associated data (another row)', () => {
    const box = new SecretBox(randomBytes(32));
    const sealed = box.seal(PLAINTEXT, AAD);
    for (const aad of ['conn-0002', '', 'conn-000', `${AAD} `]) {
      const err = thrown(() => box.open(sealed, aad));
      expect(err).toBeInstanceOf(GatehouseError);
      expect(err.message).toMatch(/cannot be decrypted/);
    }
  });

  it('fails when any single byte of the sealed blob is flipped', () => {
    const box = new SecretBox(randomBytes(32));
    const sealed = box.seal(PLAINTEXT, AAD);
    for (let i = 0; i < sealed.length; i++) {
      for (const mask of [0x01, 0x80, 0xff]) {
        const t = Buffer.from(sealed);
        t[i] ^= mask;
        expect(() => box.open(t, AAD), `byte ${i} ^ ${mask}`).toThrow(GatehouseError);
      }
    }
  });

  it('fails on truncated or extended blobs', () => {
    const box = new SecretBox(randomBytes(32));
    const sealed = box.seal(PLAINTEXT, AAD);
    for (const n of [0, 1, 12, 28, sealed.length - 1]) expect(() => box.open(sealed.subarray(0, n), AAD), `len ${n}`).toThrow(GatehouseError);
    expect(() => box.open(Buffer.concat([sealed, Buffer.from([0])]), AAD)).toThrow(GatehouseError);
  });

  it('fails with the wrong key', () => {
    const key = randomBytes(32);
    const sealed = new SecretBox(key).seal(PLAINTEXT, AAD);
    expect(() => new SecretBox(randomBytes(32)).open(sealed, AAD)).toThrow(/cannot be decrypted/);
    const near = Buffer.from(key);
    near[31] ^= 1;
    expect(() => new SecretBox(near).open(sealed, AAD)).toThrow(/cannot be decrypted/);
    expect(new SecretBox(Buffer.from(key)).open(sealed, AAD)).toBe(PLAINTEXT);
  });

  it('refuses keys that are not 32 bytes', () => {
    for (const n of [0, 16, 31, 33, 64]) expect(() => new SecretBox(randomBytes(n))).toThrow(/32-byte/);
  });

  it('never puts the plaintext (or the row id) in an error', () => {
    const secret = 'hunter2-super-secret-value';
    const box = new SecretBox(randomBytes(32));
    const sealed = box.seal(secret, AAD);
    const errors: Error[] = [
      thrown(() => box.open(sealed, 'other-row')),
      thrown(() => new SecretBox(randomBytes(32)).open(sealed, AAD)),
      thrown(() => box.open(sealed.subarray(0, 10), AAD)),
    ];
    for (let i = 0; i < sealed.length; i++) {
      const t = Buffer.from(sealed);
      t[i] ^= 0x55;
      errors.push(thrown(() => box.open(t, AAD)));
    }
    for (const err of errors) {
      const text = `${err.message}\n${err.stack ?? ''}\n${JSON.stringify(err)}\n${String((err as { cause?: unknown }).cause ?? '')}`;
      expect(text).not.toContain(secret);
      expect(text).not.toContain('hunter2');
      expect((err as { cause?: unknown }).cause).toBeUndefined();
    }
  });
});
