import { createHash, createHmac, pbkdf2Sync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { saslprep } from '../../src/gateway/identity/saslprep';
import {
  createScramVerifier,
  MAX_CLIENT_ITERATIONS,
  parseScramVerifier,
  ScramClientExchange,
  ScramError,
  ScramServerExchange,
  verifyPasswordWithVerifier,
} from '../../src/gateway/identity/scram';

/** RFC 7677 section 3: user "user", password "pencil". */
const RFC = {
  clientNonce: 'rOprNGfwEbeRWgbNEkqO',
  serverNonce: '%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0',
  clientFirst: 'n,,n=user,r=rOprNGfwEbeRWgbNEkqO',
  serverFirst: 'r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096',
  clientFinal: 'c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=',
  serverFinal: 'v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=',
};

/** The RFC's verifier, computed independently of the code under test. */
function rfcVerifier(): string {
  const salted = pbkdf2Sync('pencil', Buffer.from('W22ZaJ0SNY7soEsUEjb6gQ==', 'base64'), 4096, 32, 'sha256');
  const storedKey = createHash('sha256').update(createHmac('sha256', salted).update('Client Key').digest()).digest();
  const serverKey = createHmac('sha256', salted).update('Server Key').digest();
  return `SCRAM-SHA-256$4096:W22ZaJ0SNY7soEsUEjb6gQ==$${storedKey.toString('base64')}:${serverKey.toString('base64')}`;
}

/** Run a full exchange; returns the server's verdict and whether the client accepted the server. */
function exchange(client: ScramClientExchange, server: ScramServerExchange) {
  const final = client.handleServerFirst(server.handleClientFirst(client.clientFirst()));
  const r = server.handleClientFinal(final);
  if (!r.ok) return { serverOk: false, clientOk: false };
  try {
    client.verifyServerFinal(r.serverFinal);
    return { serverOk: true, clientOk: true };
  } catch {
    return { serverOk: true, clientOk: false };
  }
}

describe('SCRAM-SHA-256 against the RFC 7677 test vector', () => {
  it('the server accepts the RFC client proof and answers with the RFC server signature', () => {
    const server = new ScramServerExchange(parseScramVerifier(rfcVerifier()), { serverNonce: RFC.serverNonce });
    expect(server.handleClientFirst(RFC.clientFirst)).toBe(RFC.serverFirst);
    expect(server.handleClientFinal(RFC.clientFinal)).toEqual({ ok: true, serverFinal: RFC.serverFinal });
  });

  it('the client produces the RFC proof and accepts the RFC server signature', () => {
    const client = new ScramClientExchange('pencil', { user: 'user', nonce: RFC.clientNonce });
    expect(client.clientFirst()).toBe(RFC.clientFirst);
    expect(client.handleServerFirst(RFC.serverFirst)).toBe(RFC.clientFinal);
    expect(() => client.verifyServerFinal(RFC.serverFinal)).not.toThrow();
  });

  it('the asynchronous client step gives the same proof', async () => {
    const client = new ScramClientExchange('pencil', { user: 'user', nonce: RFC.clientNonce });
    client.clientFirst();
    expect(await client.handleServerFirstAsync(RFC.serverFirst)).toBe(RFC.clientFinal);
  });
});

describe('SCRAM-SHA-256 round trips', () => {
  it('succeeds with the right password and fails with a wrong one', () => {
    const verifier = parseScramVerifier(createScramVerifier('s3cret'));
    expect(exchange(new ScramClientExchange('s3cret'), new ScramServerExchange(verifier))).toEqual({ serverOk: true, clientOk: true });
    expect(exchange(new ScramClientExchange('S3cret'), new ScramServerExchange(verifier))).toEqual({ serverOk: false, clientOk: false });
    expect(exchange(new ScramClientExchange(''), new ScramServerExchange(verifier)).serverOk).toBe(false);
  });

  it('accepts the "y,," header (client supports binding, server offers none)', () => {
    const verifier = parseScramVerifier(rfcVerifier());
    const server = new ScramServerExchange(verifier, { serverNonce: RFC.serverNonce });
    server.handleClientFirst('y,,n=,r=' + RFC.clientNonce);
    // c= must now carry base64("y,,"); the proof is wrong for this auth message but the message is well formed.
    const r = server.handleClientFinal(`c=eSws,r=${RFC.clientNonce}${RFC.serverNonce},p=${Buffer.alloc(32).toString('base64')}`);
    expect(r.ok).toBe(false);
  });

  it('works with non-ASCII passwords, SASLprepped the same way on both sides', () => {
    const verifier = parseScramVerifier(createScramVerifier('pa\u00A0ss\u00ADword\uFB01'));
    // U+00A0 -> space, U+00AD -> nothing, U+FB01 -> "fi" (NFKC).
    expect(exchange(new ScramClientExchange('pa ssword' + 'fi'), new ScramServerExchange(verifier)).serverOk).toBe(true);
    expect(exchange(new ScramClientExchange('pa ssword'), new ScramServerExchange(verifier)).serverOk).toBe(false);
  });

  it('the client rejects a server that does not know the password', () => {
    const client = new ScramClientExchange('s3cret');
    const impostor = new ScramServerExchange(parseScramVerifier(createScramVerifier('other')));
    const final = client.handleServerFirst(impostor.handleClientFirst(client.clientFirst()));
    expect(impostor.handleClientFinal(final).ok).toBe(false);
    // Whatever the impostor sends as its final message, the client refuses it.
    expect(() => client.verifyServerFinal('v=' + Buffer.alloc(32).toString('base64'))).toThrow(ScramError);
  });

  it('the client rejects a server signature computed for another exchange', () => {
    const verifier = parseScramVerifier(createScramVerifier('s3cret'));
    const first = new ScramClientExchange('s3cret');
    const server = new ScramServerExchange(verifier);
    const r = server.handleClientFinal(first.handleServerFirst(server.handleClientFirst(first.clientFirst())));
    expect(r.ok).toBe(true);
    const replayTarget = new ScramClientExchange('s3cret');
    const server2 = new ScramServerExchange(verifier);
    replayTarget.handleServerFirst(server2.handleClientFirst(replayTarget.clientFirst()));
    expect(() => replayTarget.verifyServerFinal((r as { serverFinal: string }).serverFinal)).toThrow(ScramError);
  });

  it('the client reports a server error attribute and refuses out-of-order messages', () => {
    const client = new ScramClientExchange('x');
    expect(() => client.verifyServerFinal('v=abcd')).toThrow(ScramError);
    const c2 = new ScramClientExchange('x');
    const server = new ScramServerExchange(null);
    c2.handleServerFirst(server.handleClientFirst(c2.clientFirst()));
    expect(() => c2.verifyServerFinal('e=invalid-proof')).toThrow(/invalid-proof/);
  });
});

describe('SCRAM-SHA-256 for unknown users', () => {
  it('never succeeds, whatever the password', () => {
    expect(exchange(new ScramClientExchange('anything'), new ScramServerExchange(null, { mockUser: 'ghost' })).serverOk).toBe(false);
    expect(exchange(new ScramClientExchange(''), new ScramServerExchange(null)).serverOk).toBe(false);
  });

  it('shows a stable salt per name, like a real user, and the same iteration count', () => {
    const salt = (s: string) => /,s=([^,]+),i=(\d+)$/.exec(s)!.slice(1);
    const first = (ex: ScramServerExchange) => salt(ex.handleClientFirst('n,,n=,r=abc'));
    const [s1, i1] = first(new ScramServerExchange(null, { mockUser: 'ghost' }));
    const [s2] = first(new ScramServerExchange(null, { mockUser: 'ghost' }));
    const [s3] = first(new ScramServerExchange(null, { mockUser: 'other-ghost' }));
    const [real1, realIter] = first(new ScramServerExchange(parseScramVerifier(createScramVerifier('pw'))));
    expect(s1).toBe(s2);
    expect(s1).not.toBe(s3);
    expect(Buffer.from(s1, 'base64').length).toBe(Buffer.from(real1, 'base64').length);
    expect(i1).toBe(realIter);
  });

  it('a persistent mock key gives the same salt in another process', () => {
    const key = Buffer.alloc(32, 7);
    const a = new ScramServerExchange(null, { mockUser: 'ghost', mockKey: key }).handleClientFirst('n,,n=,r=abc');
    const b = new ScramServerExchange(null, { mockUser: 'ghost', mockKey: Buffer.from(key) }).handleClientFirst('n,,n=,r=abc');
    expect(a.split(',s=')[1]).toBe(b.split(',s=')[1]);
  });
});

describe('SCRAM-SHA-256 with malformed or hostile messages', () => {
  it('the server throws ScramError, never another error, on bad client-first messages', () => {
    const bad = [
      '',
      'garbage',
      'n',
      'n,,',
      'n,,r=',
      'n,,n=,r=',
      'n,,n=,r=a,b',
      'x,,n=,r=abc',
      'n,,r=abc',
      'n,,n=,r=ab\x7fc',
      'n,a=admin,n=,r=abc',
      'n,,m=ext,n=,r=abc',
      '\u0000\u0000',
    ];
    for (const m of bad) {
      let thrown: unknown;
      try {
        new ScramServerExchange(null).handleClientFirst(m);
      } catch (err) {
        thrown = err;
      }
      expect(thrown, JSON.stringify(m)).toBeInstanceOf(ScramError);
    }
  });

  it('names channel binding clearly when a client asks for it', () => {
    expect(() => new ScramServerExchange(null).handleClientFirst('p=tls-server-end-point,,n=,r=abc')).toThrow(/channel binding is not supported/);
  });

  it('the server throws ScramError on bad client-final messages', () => {
    const proof = Buffer.alloc(32).toString('base64');
    const bad = (nonce: string) => [
      '',
      `c=biws,r=${nonce}`,
      `c=biws,r=wrongnonce,p=${proof}`,
      `c=eSws,r=${nonce},p=${proof}`, // binding data for "y,," after "n,,"
      `r=${nonce},c=biws,p=${proof}`,
      `c=biws,r=${nonce},p=${Buffer.alloc(31).toString('base64')}`,
      `c=biws,r=${nonce},p=not*base64`,
      `c=biws,r=${nonce},p=`,
    ];
    for (const m of bad('PLACEHOLDER')) {
      const server = new ScramServerExchange(parseScramVerifier(createScramVerifier('pw')));
      const nonce = /^r=([^,]+)/.exec(server.handleClientFirst('n,,n=,r=abc'))![1];
      const msg = m.replace('PLACEHOLDER', nonce);
      expect(() => server.handleClientFinal(msg), msg).toThrow(ScramError);
    }
  });

  it('the server refuses messages out of order and a second attempt on one exchange', () => {
    const server = new ScramServerExchange(null);
    expect(() => server.handleClientFinal('c=biws,r=x,p=' + Buffer.alloc(32).toString('base64'))).toThrow(ScramError);
    const s2 = new ScramServerExchange(null);
    s2.handleClientFirst('n,,n=,r=abc');
    expect(() => s2.handleClientFirst('n,,n=,r=abc')).toThrow(ScramError);
    expect(() => s2.handleClientFinal('garbage')).toThrow(ScramError);
    expect(() => s2.handleClientFinal('garbage')).toThrow(ScramError);
  });

  it('the client throws ScramError on bad server-first messages', () => {
    const bad = (nonce: string) => [
      '',
      `r=${nonce}`,
      `r=somebodyelse,s=QUJD,i=4096`,
      `r=X${nonce},s=QUJD,i=4096`, // not extending the client nonce
      `r=${nonce.slice(0, nonce.indexOf('SRV'))},s=QUJD,i=4096`, // exactly the client nonce
      `r=${nonce},s=,i=4096`,
      `r=${nonce},s=*,i=4096`,
      `r=${nonce},s=QUJD,i=0`,
      `r=${nonce},s=QUJD,i=-1`,
      `r=${nonce},s=QUJD,i=4096.5`,
      `r=${nonce},s=QUJD,i=${MAX_CLIENT_ITERATIONS + 1}`,
      `m=ext,r=${nonce},s=QUJD,i=4096`,
      `s=QUJD,r=${nonce},i=4096`,
    ];
    for (const template of bad('CLIENTSRV')) {
      const client = new ScramClientExchange('pw');
      const clientNonce = /r=(.+)$/.exec(client.clientFirst())![1];
      const msg = template.replace(/CLIENT/g, clientNonce);
      expect(() => client.handleServerFirst(msg), msg).toThrow(ScramError);
    }
  });
});

describe('SCRAM verifiers', () => {
  it('are stored in PostgreSQL format and check cleartext passwords', () => {
    const v = createScramVerifier('pw');
    expect(v).toMatch(/^SCRAM-SHA-256\$4096:[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+:[A-Za-z0-9+/=]+$/);
    expect(verifyPasswordWithVerifier('pw', v)).toBe(true);
    expect(verifyPasswordWithVerifier('pw ', v)).toBe(false);
    expect(verifyPasswordWithVerifier('pencil', rfcVerifier())).toBe(true);
    expect(parseScramVerifier(createScramVerifier('pw', 1000)).iterations).toBe(1000);
  });

  it('parse rejects malformed verifiers with ScramError', () => {
    const good = rfcVerifier();
    for (const bad of ['', 'md5abc', good.replace('$4096:', '$0:'), good.replace('SCRAM-SHA-256', 'SCRAM-SHA-1'), good.slice(0, -4), good + ':x', good.replace('W22Z', 'W*2Z')]) {
      expect(() => parseScramVerifier(bad), bad).toThrow(ScramError);
    }
  });
});

describe('SASLprep (RFC 4013 examples, with PostgreSQL\'s fallback to the raw password)', () => {
  it('maps, normalises and prohibits like RFC 4013 section 3', () => {
    expect(saslprep('I\u00ADX')).toBe('IX');
    expect(saslprep('user')).toBe('user');
    expect(saslprep('USER')).toBe('USER');
    expect(saslprep('\u00AA')).toBe('a');
    expect(saslprep('\u2168')).toBe('IX');
    expect(saslprep('a\u00A0b\u3000c')).toBe('a b c');
    expect(saslprep('\u0627\u0031')).toBeNull(); // bidi: must end with a right-to-left character
    expect(saslprep('\u0627\u0031\u0628')).toBe('\u0627\u0031\u0628');
    expect(saslprep('\u00AD')).toBeNull(); // empty after mapping
    expect(saslprep('x\uE000y')).toBeNull(); // private use
  });

  it('leaves ASCII untouched, control characters included (as PostgreSQL does)', () => {
    expect(saslprep('\u0007bell')).toBe('\u0007bell');
    expect(saslprep('')).toBe('');
  });
});
