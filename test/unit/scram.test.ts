import { createHash, createHmac, pbkdf2Sync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  createScramVerifier,
  parseScramVerifier,
  ScramClientExchange,
  ScramError,
  ScramServerExchange,
  verifyPasswordWithVerifier,
} from '../../src/gateway/identity/scram';

/** RFC 7677 section 3: user "user", password "pencil". */
const RFC = {
  clientFirstBare: 'n=user,r=rOprNGfwEbeRWgbNEkqO',
  serverFirst: 'r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096',
  clientFinalWithoutProof: 'c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0',
  proof: 'dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=',
  serverSignature: '6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=',
};

function rfcVerifier() {
  const salted = pbkdf2Sync('pencil', Buffer.from('W22ZaJ0SNY7soEsUEjb6gQ==', 'base64'), 4096, 32, 'sha256');
  const storedKey = createHash('sha256').update(createHmac('sha256', salted).update('Client Key').digest()).digest();
  const serverKey = createHmac('sha256', salted).update('Server Key').digest();
  return `SCRAM-SHA-256$4096:W22ZaJ0SNY7soEsUEjb6gQ==$${storedKey.toString('base64')}:${serverKey.toString('base64')}`;
}

describe('SCRAM-SHA-256', () => {
  it('verifies the RFC 7677 client proof and produces its server signature', () => {
    const server = new ScramServerExchange(parseScramVerifier(rfcVerifier()));
    const serverFirst = server.handleClientFirst(`n,,${RFC.clientFirstBare}`);
    // Our server picks its own nonce; re-run the RFC's messages through the same math to check it.
    expect(serverFirst).toMatch(/^r=rOprNGfwEbeRWgbNEkqO.+,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096$/);
    (server as any).nonce = 'rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0';
    (server as any).serverFirst = RFC.serverFirst;
    const r = server.handleClientFinal(`${RFC.clientFinalWithoutProof},p=${RFC.proof}`);
    expect(r).toEqual({ ok: true, serverFinal: `v=${RFC.serverSignature}` });
  });

  it('round-trips client and server, and rejects a wrong password', () => {
    const verifier = parseScramVerifier(createScramVerifier('s3cret'));
    for (const [password, ok] of [['s3cret', true], ['S3cret', false]] as const) {
      const client = new ScramClientExchange(password);
      const server = new ScramServerExchange(verifier);
      const final = client.handleServerFirst(server.handleClientFirst(client.clientFirst()));
      const r = server.handleClientFinal(final);
      expect(r.ok).toBe(ok);
      if (r.ok) expect(() => client.verifyServerFinal(r.serverFinal)).not.toThrow();
    }
  });

  it('the client rejects a server that does not know the password', () => {
    const client = new ScramClientExchange('s3cret');
    const impostor = new ScramServerExchange(parseScramVerifier(createScramVerifier('other')));
    client.handleServerFirst(impostor.handleClientFirst(client.clientFirst()));
    expect(() => client.verifyServerFinal('v=' + Buffer.alloc(32).toString('base64'))).toThrow(ScramError);
  });

  it('an exchange for an unknown agent never succeeds', () => {
    const client = new ScramClientExchange('anything');
    const server = new ScramServerExchange(null);
    const final = client.handleServerFirst(server.handleClientFirst(client.clientFirst()));
    expect(server.handleClientFinal(final).ok).toBe(false);
  });

  it('throws ScramError (never another error) on malformed or hostile messages', () => {
    const bad = ['', 'garbage', 'p=tls-server-end-point,,n=,r=abc', 'n,,r=', 'n,,n=,r=a,b', 'x,,n=,r=abc'];
    for (const m of bad) expect(() => new ScramServerExchange(null).handleClientFirst(m), m).toThrow(ScramError);
    const server = new ScramServerExchange(null);
    server.handleClientFirst('n,,n=,r=abc');
    expect(() => server.handleClientFinal('c=biws,r=wrongnonce,p=' + Buffer.alloc(32).toString('base64'))).toThrow(ScramError);
    expect(() => server.handleClientFinal('again')).toThrow(ScramError);
  });

  it('stores verifiers in PostgreSQL format and checks cleartext passwords against them', () => {
    const v = createScramVerifier('pw');
    expect(v).toMatch(/^SCRAM-SHA-256\$4096:[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+:[A-Za-z0-9+/=]+$/);
    expect(verifyPasswordWithVerifier('pw', v)).toBe(true);
    expect(verifyPasswordWithVerifier('pw ', v)).toBe(false);
    expect(() => parseScramVerifier('md5abc')).toThrow(ScramError);
  });
});
