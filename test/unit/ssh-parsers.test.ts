import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { AsciicastWriter } from '../../src/gateway/recording/asciicast-writer';
import { parseScpCommand } from '../../src/gateway/ssh/scp-command';
import { SftpProtocolError, SftpTap, type SftpFileOp } from '../../src/gateway/ssh/sftp-tap';
import { splitShellWords } from '../../src/gateway/policy/shell-words';
import { parseLoginName } from '../../src/gateway/ssh/agent-auth';

const u32 = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
};
const str = (s: string | Buffer) => Buffer.concat([u32(Buffer.byteLength(s)), Buffer.from(s)]);
const packet = (type: number, ...parts: Buffer[]) => {
  const body = Buffer.concat([Buffer.from([type]), ...parts]);
  return Buffer.concat([u32(body.length), body]);
};
const u64 = (n: number) => Buffer.concat([u32(Math.floor(n / 2 ** 32)), u32(n % 2 ** 32)]);

/** An sftp conversation: client packets and server packets, interleaved as a real one would be. */
function conversation(): { client: Buffer; server: Buffer }[] {
  const handle = Buffer.from('h1');
  const data = Buffer.alloc(40_000, 7);
  return [
    { client: packet(1, u32(3)), server: packet(2, u32(3)) },
    { client: packet(14, u32(1), str('/d'), u32(0)), server: packet(101, u32(1), u32(0), str(''), str('')) },
    { client: packet(3, u32(2), str('/d/f'), u32(0x02 | 0x08), u32(0)), server: packet(102, u32(2), str(handle)) },
    { client: packet(6, u32(3), str(handle), u64(0), str(data)), server: packet(101, u32(3), u32(0), str(''), str('')) },
    { client: packet(4, u32(4), str(handle)), server: packet(101, u32(4), u32(0), str(''), str('')) },
    { client: packet(3, u32(5), str('/d/f'), u32(0x01), u32(0)), server: packet(102, u32(5), str('h2')) },
    { client: packet(5, u32(6), str('h2'), u64(0), u32(32768)), server: packet(103, u32(6), str(data.subarray(0, 32768))) },
    { client: packet(4, u32(7), str('h2')), server: packet(101, u32(7), u32(0), str(''), str('')) },
    { client: packet(18, u32(8), str('/d/f'), str('/d/g')), server: packet(101, u32(8), u32(0), str(''), str('')) },
    { client: packet(13, u32(9), str('/d/missing')), server: packet(101, u32(9), u32(2), str('no such file'), str('')) },
    { client: packet(200, u32(10), str('posix-rename@openssh.com'), str('/d/g'), str('/d/h')), server: packet(101, u32(10), u32(0), str(''), str('')) },
  ];
}

const EXPECTED: SftpFileOp[] = [
  { op: 'mkdir', path: '/d', target: null, direction: null, bytes: 0 },
  { op: 'write', path: '/d/f', direction: 'upload', bytes: 40_000 },
  { op: 'read', path: '/d/f', direction: 'download', bytes: 32768 },
  { op: 'rename', path: '/d/f', target: '/d/g', direction: null, bytes: 0 },
  { op: 'rename', path: '/d/g', target: '/d/h', direction: null, bytes: 0 },
];

describe('SftpTap', () => {
  it('reports file operations from whole packets', () => {
    const ops: SftpFileOp[] = [];
    const tap = new SftpTap((o) => ops.push(o));
    for (const step of conversation()) {
      tap.fromClient(step.client);
      tap.fromServer(step.server);
    }
    tap.close();
    expect(ops).toEqual(EXPECTED);
  });

  it('gives the same result with every packet cut at every offset', () => {
    for (const step of [2, 3, 6]) {
      const conv = conversation();
      const target = conv[step];
      for (const side of ['client', 'server'] as const) {
        for (let cut = 1; cut < target[side].length; cut += cut < 64 ? 1 : 997) {
          const ops: SftpFileOp[] = [];
          const tap = new SftpTap((o) => ops.push(o));
          for (const s of conv) {
            if (s === target && side === 'client') {
              tap.fromClient(s.client.subarray(0, cut));
              tap.fromClient(s.client.subarray(cut));
            } else tap.fromClient(s.client);
            if (s === target && side === 'server') {
              tap.fromServer(s.server.subarray(0, cut));
              tap.fromServer(s.server.subarray(cut));
            } else tap.fromServer(s.server);
          }
          expect(ops, `${side} packet ${step} cut at ${cut}`).toEqual(EXPECTED);
        }
      }
    }
  });

  it('in 13-byte pieces too', () => {
    const ops: SftpFileOp[] = [];
    const tap = new SftpTap((o) => ops.push(o));
    const conv = conversation();
    for (const s of conv) {
      for (let i = 0; i < s.client.length; i += 13) tap.fromClient(s.client.subarray(i, i + 13));
      tap.fromServer(s.server);
    }
    expect(ops).toEqual(EXPECTED);
  });

  it('reports files still open when the channel ends, and refuses absurd packet lengths', () => {
    const ops: SftpFileOp[] = [];
    const tap = new SftpTap((o) => ops.push(o));
    const conv = conversation();
    for (const s of conv.slice(0, 4)) {
      tap.fromClient(s.client);
      tap.fromServer(s.server);
    }
    tap.close();
    expect(ops.at(-1)).toEqual({ op: 'write_unclosed', path: '/d/f', direction: 'upload', bytes: 40_000 });
    expect(() => new SftpTap(() => {}).fromClient(Buffer.from([0xff, 0xff, 0xff, 0xff, 3]))).toThrow(SftpProtocolError);
  });
});

describe('shell words and scp commands', () => {
  it('splits like a shell', () => {
    expect(splitShellWords(`scp -t -- '/tmp/a b' "c \\"d\\"" e\\ f`)).toEqual(['scp', '-t', '--', '/tmp/a b', 'c "d"', 'e f']);
    expect(splitShellWords('  rm   -rf\t/ ')).toEqual(['rm', '-rf', '/']);
    expect(splitShellWords("echo 'unterminated")).toBeNull();
    expect(splitShellWords("a''b \"\"")).toEqual(['ab', '']);
  });

  it('recognises scp transfers', () => {
    expect(parseScpCommand("scp -v -t -- '/tmp/x y'")).toEqual({ direction: 'upload', path: '/tmp/x y', recursive: false });
    expect(parseScpCommand('/usr/bin/scp -rf /etc')).toEqual({ direction: 'download', path: '/etc', recursive: true });
    expect(parseScpCommand('scp /a /b')).toBeNull();
    expect(parseScpCommand('echo scp -t /x')).toBeNull();
  });

  it('reads agent and connection from the login name', () => {
    expect(parseLoginName('box')).toEqual({ agentName: null, connectionName: 'box' });
    expect(parseLoginName('bot@box')).toEqual({ agentName: 'bot', connectionName: 'box' });
  });
});

describe('AsciicastWriter', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'gh-cast-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('writes a v2 header and events; a UTF-8 character split across chunks is written whole', () => {
    let t = 1_000_000;
    const file = path.join(dir, 'a', 'b.cast');
    const w = new AsciicastWriter(file, { width: 100, height: 30, startedAt: t, command: 'ls' }, { now: () => t });
    const e = Buffer.from('é€😀');
    for (let i = 0; i < e.length; i++) {
      t += 500;
      w.output(e.subarray(i, i + 1));
    }
    w.resize(120, 40);
    w.input(Buffer.from('q'));
    w.close();
    const lines = readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(lines[0]).toEqual({ version: 2, width: 100, height: 30, timestamp: 1000, command: 'ls' });
    const events = lines.slice(1);
    expect(events.filter((x) => x[1] === 'o').map((x) => x[2])).toEqual(['é', '€', '😀']);
    expect(events.filter((x) => x[1] === 'r')).toEqual([[4.5, 'r', '120x40']]);
    expect(events.filter((x) => x[1] === 'i').map((x) => x[2])).toEqual(['q']);
  });

  it('stops writing output at the limit but keeps counting', () => {
    const file = path.join(dir, 'limit.cast');
    const w = new AsciicastWriter(file, { width: 80, height: 24, startedAt: 0 }, { maxOutputBytes: 10, now: () => 0 });
    w.output(Buffer.from('0123456789abc'));
    w.output(Buffer.from('more'));
    w.close();
    expect(w.truncated).toBe(true);
    expect(w.outputBytes).toBe(17);
    const out = readFileSync(file, 'utf8').trim().split('\n').slice(1).map((l) => JSON.parse(l)[2]).join('');
    expect(out).toBe('0123456789');
  });
});
