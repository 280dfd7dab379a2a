import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/gateway/core/logger';
import { startGatehouse, type Gatehouse } from '../../src/gateway/gatehouse';
import type { ConnectionDto } from '../../src/shared/contract';
import { buildCli, gatehouse, startServe, type ServeProcess } from '../helpers/cli';
import { makeKeyPair, TestSshd, type KeyPair } from '../helpers/sshd';

const ACTOR = { actor: 'test' };
const CLIENT_OPTS = ['-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-o', 'BatchMode=yes', '-o', 'LogLevel=ERROR', '-o', 'IdentitiesOnly=yes'];

/** Run the real OpenSSH client (or scp) to completion. */
function run(cmd: string, args: string[], opts: { input?: string; timeoutMs?: number } = {}) {
  return new Promise<{ code: number | null; stdout: Buffer; stderr: string }>((resolve) => {
    const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 30_000);
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d) => (stderr += d));
    child.stdin.on('error', () => {});
    child.stdin.end(opts.input ?? '');
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout: Buffer.concat(out), stderr });
    });
  });
}

/** The output events of a channel's .cast file, joined. */
function castOutput(dataDir: string, file: string): string {
  return readFileSync(path.join(dataDir, file), 'utf8')
    .trim()
    .split('\n')
    .slice(1)
    .map((l) => JSON.parse(l) as [number, string, string])
    .filter((e) => e[1] === 'o')
    .map((e) => e[2])
    .join('');
}

describe('SSH gateway: output masking (real OpenSSH on both sides)', () => {
  let sshd: TestSshd;
  let gh: Gatehouse;
  let dir: string;
  let dataDir: string;
  let port: number;
  let agentKey: KeyPair;

  const ssh = (user: string, command: string, extra: string[] = [], input?: string) =>
    run('ssh', ['-p', String(port), '-i', agentKey.privateFile, ...CLIENT_OPTS, ...extra, `${user}@127.0.0.1`, command], { input });
  const lastRecording = (connection: string) => {
    const session = gh.store.sessions.list({ limit: 1, connectionName: connection }).items[0];
    return gh.store.ssh.listRecordings(session.id)[0];
  };

  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'gh-ssh-extras-'));
    dataDir = path.join(dir, 'data');
    sshd = await new TestSshd().start();
    gh = await startGatehouse({ dataDir, pgPort: 0, consolePort: null, sshPort: 0, log: silentLogger });
    port = gh.info().listeners.ssh!.port;
    agentKey = makeKeyPair(dir, 'agent_key');
    for (const name of ['box', 'plain']) {
      await gh.api.call('connections.add', { name, kind: 'ssh', host: '127.0.0.1', port: sshd.port, username: sshd.user, privateKey: sshd.userKey.privateKey }, ACTOR);
    }
    await gh.api.call('agents.add', { name: 'bot', sshPublicKey: agentKey.publicKey }, ACTOR);
    for (const c of ['box', 'plain']) await gh.api.call('grants.add', { agent: 'bot', connection: c }, ACTOR);
    await gh.api.call(
      'policy.apply',
      {
        yaml: [
          'version: 1',
          'masking:',
          '  - name: pii',
          '    scope: { connections: [box] }',
          '    detectors: [email, payment_card]',
          '    strategy: redact',
          '  - name: sql-only-columns',
          '    columns: [email]',
          '',
        ].join('\n'),
      },
      ACTOR,
    );
  }, 60_000);

  afterAll(async () => {
    await gh?.close();
    await sshd?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('exec output (stdout and stderr) is masked, and so is the recording; other connections are not', async () => {
    const r = await ssh('box', 'echo alice@example.com; printf "4111 1111 1111 1111"; echo "card 5500-0000-0000-0004 of bob@example.org" >&2');
    expect(r.code).toBe(0);
    expect(r.stdout.toString()).toBe('[email redacted]\n[payment_card redacted]');
    expect(r.stderr).toBe('card [payment_card redacted] of [email redacted]\n');
    const rec = lastRecording('box');
    expect(rec.masked).toBe(4);
    expect(rec.maskedBy).toEqual({ 'pii:email': 2, 'pii:payment_card': 2 });
    const recorded = castOutput(dataDir, rec.file!);
    expect(recorded).toContain('[email redacted]\n');
    expect(recorded).toContain('[payment_card redacted]');
    for (const raw of ['alice@', 'example.com', '4111', '5500', 'bob@']) expect(recorded).not.toContain(raw);

    // The rule is scoped to "box"; the column rule is for SQL only.
    const plain = await ssh('plain', 'echo alice@example.com; printf "4111 1111 1111 1111"');
    expect(plain.stdout.toString()).toBe('alice@example.com\n4111 1111 1111 1111');
    expect(lastRecording('plain').masked).toBe(0);
  });

  it('a big output cut into many chunks: every value masked, nothing else changed', async () => {
    const r = await ssh('box', 'i=0; while [ $i -lt 3000 ]; do printf "row %05d user%d@example.com \\033[1mbold\\033[0m \\303\\251t\\303\\251\\n" $i $i; i=$((i+1)); done');
    expect(r.code).toBe(0);
    const lines = r.stdout.toString('utf8').split('\n');
    expect(lines).toHaveLength(3001);
    lines.slice(0, 3000).forEach((l, i) => expect(l).toBe(`row ${String(i).padStart(5, '0')} [email redacted] \x1b[1mbold\x1b[0m été`));
    expect(lastRecording('box').masked).toBe(3000);
  });

  it('with a PTY: escape sequences and UTF-8 intact, values masked, prompt-like output without newline still arrives', async () => {
    const r = await ssh('box', 'printf "\\033[31mred\\033[0m carol@example.net \\342\\234\\223\\n"; printf "waiting> "; sleep 1; echo done', ['-tt']);
    expect(r.code).toBe(0);
    expect(r.stdout.toString('utf8')).toBe('\x1b[31mred\x1b[0m [email redacted] ✓\r\nwaiting> done\r\n');
  });

  it('a line without its end (a prompt) is masked and sent after a short idle, not held until the command ends', async () => {
    const child = spawn('ssh', ['-p', String(port), '-i', agentKey.privateFile, ...CLIENT_OPTS, 'box@127.0.0.1', 'printf "mail bob@example.com> "; sleep 8; echo end'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let exited = false;
    child.stdout.on('data', (d) => (out += d));
    const done = new Promise<void>((r) => child.on('close', () => ((exited = true), r())));
    for (let i = 0; i < 120 && !out; i++) await new Promise((r) => setTimeout(r, 50));
    expect(out).toBe('mail [email redacted]> ');
    expect(exited).toBe(false);
    await done;
    expect(out).toBe('mail [email redacted]> end\n');
  }, 30_000);

  it('sftp/scp file contents are not masked (binary transfers)', async () => {
    const remote = path.join(dir, 'contacts.txt');
    writeFileSync(remote, 'alice@example.com 4111 1111 1111 1111\n');
    const local = path.join(dir, 'contacts-copy.txt');
    const r = await run('scp', ['-P', String(port), '-i', agentKey.privateFile, ...CLIENT_OPTS, `box@127.0.0.1:${remote}`, local]);
    expect(r.code).toBe(0);
    expect(readFileSync(local, 'utf8')).toBe('alice@example.com 4111 1111 1111 1111\n');
  });
});

describe('SSH gateway: forwarding allowed per connection (real OpenSSH on both sides)', () => {
  let sshd: TestSshd;
  let gh: Gatehouse;
  let dir: string;
  let port: number;
  let agentKey: KeyPair;
  let service: net.Server;
  let servicePort: number;

  const ssh = (args: string[], input?: string) => run('ssh', ['-p', String(port), '-i', agentKey.privateFile, ...CLIENT_OPTS, ...args], { input });
  const audit = () => gh.store.audit.list({ limit: 500, order: 'asc' });

  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'gh-ssh-fwd-'));
    sshd = await new TestSshd().start();
    gh = await startGatehouse({ dataDir: path.join(dir, 'data'), pgPort: 0, consolePort: null, sshPort: 0, log: silentLogger });
    port = gh.info().listeners.ssh!.port;
    agentKey = makeKeyPair(dir, 'agent_key');
    await gh.api.call('connections.add', { name: 'box', kind: 'ssh', host: '127.0.0.1', port: sshd.port, username: sshd.user, privateKey: sshd.userKey.privateKey }, ACTOR);
    await gh.api.call('agents.add', { name: 'bot', sshPublicKey: agentKey.publicKey }, ACTOR);
    await gh.api.call('grants.add', { agent: 'bot', connection: 'box' }, ACTOR);
    // A service only the upstream host is meant to reach: answers "echo:" + what it got, then closes.
    service = net.createServer((s) => {
      const got: Buffer[] = [];
      s.on('data', (d) => got.push(d));
      s.on('end', () => s.end(`echo:${Buffer.concat(got).toString()}`));
    });
    await new Promise<void>((r) => service.listen(0, '127.0.0.1', r));
    servicePort = (service.address() as net.AddressInfo).port;
  }, 60_000);

  afterAll(async () => {
    await gh?.close();
    await sshd?.stop();
    service?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('refused by default, with the reason audited', async () => {
    const r = await ssh(['-W', `127.0.0.1:${servicePort}`, 'box@127.0.0.1'], 'hi');
    expect(r.code).toBe(255);
    expect(r.stderr).toMatch(/administratively prohibited|stdio forwarding failed/);
    expect(audit().some((e) => e.kind === 'ssh.refused' && e.detail.request === 'direct-tcpip' && e.detail.reason === 'forwarding_not_allowed')).toBe(true);
    expect(((await gh.api.call('connections.list', {}, ACTOR)) as ConnectionDto[])[0].allowForwarding).toEqual([]);
  });

  it('allowed: ssh -W and -L reach the service through the upstream host, one audit event per forwarded connection', async () => {
    const dto = (await gh.api.call('connections.update', { name: 'box', allowForwarding: ['tcpip'] }, ACTOR)) as ConnectionDto;
    expect(dto.allowForwarding).toEqual(['tcpip']);
    const r = await ssh(['-W', `127.0.0.1:${servicePort}`, 'box@127.0.0.1'], 'through-the-gateway');
    expect(r.stderr).toBe('');
    expect(r.stdout.toString()).toBe('echo:through-the-gateway');

    // ssh -L: a local port on the agent's side, forwarded while a command runs.
    const local = await new Promise<number>((resolve) => {
      const probe = net.createServer().listen(0, '127.0.0.1', () => {
        const p = (probe.address() as net.AddressInfo).port;
        probe.close(() => resolve(p));
      });
    });
    const tunnel = ssh(['-o', 'ExitOnForwardFailure=yes', '-L', `${local}:127.0.0.1:${servicePort}`, 'box@127.0.0.1', 'sleep 3']);
    let reply = '';
    for (let i = 0; i < 40 && !reply; i++) {
      await new Promise((res) => setTimeout(res, 100));
      reply = await new Promise<string>((resolve) => {
        const c = net.connect(local, '127.0.0.1', () => c.end('via-L'));
        let got = '';
        c.on('data', (d) => (got += d));
        c.on('close', () => resolve(got));
        c.on('error', () => resolve(''));
      });
    }
    expect(reply).toBe('echo:via-L');
    expect((await tunnel).code).toBe(0);

    const opened = audit().filter((e) => e.kind === 'ssh.forwarded');
    expect(opened).toHaveLength(2);
    expect(opened[0].detail).toMatchObject({ protocol: 'ssh', request: 'direct-tcpip', destination: `127.0.0.1:${servicePort}` });
    expect(opened[0].sessionId).toBeTruthy();
    const closed = audit().filter((e) => e.kind === 'ssh.forward_closed');
    expect(closed[0].detail).toMatchObject({ destination: `127.0.0.1:${servicePort}`, bytesIn: 'through-the-gateway'.length, bytesOut: 'echo:through-the-gateway'.length });
  });

  it('revoking the grant closes an open forwarded connection, audited with its bytes', async () => {
    // A service that keeps the connection open and answers each line.
    const held = net.createServer((sock) => sock.on('data', (d) => sock.write(`got:${d}`)));
    await new Promise<void>((r) => held.listen(0, '127.0.0.1', r));
    const heldPort = (held.address() as net.AddressInfo).port;
    await gh.api.call('connections.update', { name: 'box', allowForwarding: ['tcpip'] }, ACTOR);
    try {
      const child = spawn('ssh', ['-p', String(port), '-i', agentKey.privateFile, ...CLIENT_OPTS, '-W', `127.0.0.1:${heldPort}`, 'box@127.0.0.1'], { stdio: ['pipe', 'pipe', 'pipe'] });
      let out = '';
      child.stdout.on('data', (d) => (out += d));
      const exited = new Promise<number | null>((r) => child.on('close', r));
      child.stdin.write('one\n');
      for (let i = 0; i < 100 && !out.includes('got:one'); i++) await new Promise((r) => setTimeout(r, 50));
      expect(out).toBe('got:one\n');
      const revoked = (await gh.api.call('grants.revoke', { agent: 'bot', connection: 'box' }, ACTOR)) as { sessionsClosed: number };
      expect(revoked.sessionsClosed).toBe(1);
      await exited; // ssh -W ends when its forwarded channel is closed
      const closed = audit().filter((e) => e.kind === 'ssh.forward_closed' && e.detail.destination === `127.0.0.1:${heldPort}`);
      expect(closed).toHaveLength(1);
      expect(closed[0].detail).toMatchObject({ bytesIn: 4, bytesOut: 8 });
    } finally {
      held.close();
      await gh.api.call('grants.add', { agent: 'bot', connection: 'box' }, ACTOR);
    }
  });

  it('a destination the upstream cannot reach is refused to the client and audited', async () => {
    const r = await ssh(['-W', '127.0.0.1:1', 'box@127.0.0.1'], 'x');
    expect(r.code).toBe(255);
    expect(audit().some((e) => e.kind === 'ssh.forward_failed' && e.detail.destination === '127.0.0.1:1')).toBe(true);
  });

  it('every kind can be allowed and read back; none refuses local and remote forwarding again', async () => {
    const all = (await gh.api.call('connections.update', { name: 'box', allowForwarding: ['tcpip', 'agent', 'x11'] }, ACTOR)) as ConnectionDto;
    expect(all.allowForwarding).toEqual(['tcpip', 'agent', 'x11']);
    await gh.api.call('connections.update', { name: 'box', allowForwarding: [] }, ACTOR);
    const rf = await ssh(['-o', 'ExitOnForwardFailure=yes', '-R', '0:127.0.0.1:9', 'box@127.0.0.1', 'true']);
    expect(rf.code).toBe(255);
    expect(rf.stderr).toMatch(/remote port forwarding failed/);
    const r = await ssh(['-W', `127.0.0.1:${servicePort}`, 'box@127.0.0.1'], 'hi');
    expect(r.code).toBe(255);
  });
});

describe('gatehouse CLI: connection test and sessions show for ssh', () => {
  let sshd: TestSshd;
  let other: TestSshd;
  let dir: string;
  let dataDir: string;
  let serve: ServeProcess;
  let sshPort: number;
  const cli = (args: string[]) => gatehouse([...args, '--data-dir', dataDir]);
  const addSsh = (name: string, extra: string[], keyFile: string) =>
    cli(['connection', 'add', name, '--kind', 'ssh', '--host', '127.0.0.1', '--user', sshd.user, '--private-key-file', keyFile, ...extra]);

  beforeAll(async () => {
    buildCli();
    dir = mkdtempSync(path.join(os.tmpdir(), 'gh-ssh-cli-extras-'));
    dataDir = path.join(dir, 'data');
    sshd = await new TestSshd().start();
    other = await new TestSshd().start();
    serve = await startServe(dataDir);
    sshPort = Number(/ssh\s+127\.0\.0\.1:(\d+)/.exec(serve.output())![1]);
  }, 90_000);

  afterAll(async () => {
    await serve?.stop();
    await sshd?.stop();
    await other?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('connection test: dns, tcp, handshake + host key pin, auth and `true`, each failure named', async () => {
    expect((await addSsh('web', ['--port', String(sshd.port), '--allow-forwarding', 'tcpip'], sshd.userKey.privateFile)).code).toBe(0);
    const first = await cli(['connection', 'test', 'web', '--json']);
    expect(first.code).toBe(0);
    const r1 = JSON.parse(first.stdout);
    expect(r1).toMatchObject({ ok: true, stage: 'ok' });
    expect(r1.serverVersion).toMatch(/^OpenSSH_/);
    expect(r1.message).toMatch(/^connected to 127\.0\.0\.1:\d+, host key SHA256:\S+ \(pinned now\), logged in as "\S+", ran `true`$/);
    const second = await cli(['connection', 'test', 'web']);
    expect(second.stdout).toMatch(/^ok: OpenSSH_\S+.* \(\d+ ms\)\n$/);
    expect(JSON.parse((await cli(['connection', 'test', 'web', '--json'])).stdout).message).toContain('(matches the pin)');
    const audit = (await cli(['audit', 'export'])).stdout.trim().split('\n').map((l) => JSON.parse(l) as { kind: string; connectionName: string; actor: string });
    expect(audit.filter((e) => e.kind === 'ssh.host_key_pinned' && e.connectionName === 'web')).toEqual([expect.objectContaining({ actor: 'cli' })]);

    const stranger = makeKeyPair(dir, 'stranger');
    await addSsh('badkey', ['--port', String(sshd.port)], stranger.privateFile);
    const auth = await cli(['connection', 'test', 'badkey']);
    expect(auth.code).toBe(1);
    expect(auth.stderr).toContain('connection "badkey" failed at auth: gatehouse could not log in to connection "badkey"');
    expect(auth.stderr).not.toContain('PRIVATE KEY');

    await addSsh('down', ['--port', '1'], sshd.userKey.privateFile);
    expect((await cli(['connection', 'test', 'down'])).stderr).toMatch(/failed at tcp: connection "down" \(127\.0\.0\.1:1\) is unreachable/);

    await cli(['connection', 'add', 'nowhere', '--kind', 'ssh', '--host', 'no-such-host.invalid', '--user', 'x', '--private-key-file', sshd.userKey.privateFile]);
    expect((await cli(['connection', 'test', 'nowhere'])).stderr).toMatch(/failed at dns: cannot resolve "no-such-host\.invalid"/);

    // The pinned key no longer answers: the handshake stage fails before any credential is sent.
    const moved = await cli(['connection', 'update', 'web', '--port', String(other.port)]);
    expect(moved.stdout).toBe(`connection "web" updated (${sshd.user}@127.0.0.1:${other.port}, forwarding: tcpip)\n`);
    const mismatch = JSON.parse((await cli(['connection', 'test', 'web', '--json'])).stdout);
    expect(mismatch).toMatchObject({ ok: false, stage: 'tls' });
    expect(mismatch.message).toMatch(/the host key of connection "web" .* changed: pinned SHA256:\S+, offered SHA256:\S+/);
    await cli(['connection', 'update', 'web', '--port', String(sshd.port), '--allow-forwarding', 'none']);
    const listed = JSON.parse((await cli(['connection', 'list', '--json'])).stdout) as ConnectionDto[];
    expect(listed.find((c) => c.name === 'web')!.allowForwarding).toEqual([]);
    const x11 = await cli(['connection', 'update', 'web', '--allow-forwarding', 'x11,agent']);
    expect(x11.stdout).toBe(`connection "web" updated (${sshd.user}@127.0.0.1:${sshd.port}, forwarding: agent,x11)\n`);
    const bad = await cli(['connection', 'update', 'web', '--allow-forwarding', 'socks']);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain('--allow-forwarding takes tcpip, agent, x11 or none, not "socks"');
   }, 180_000);

  it('sessions show lists an SSH session\'s channels and its file operations (table and --json)', async () => {
    const key = makeKeyPair(dir, 'cli_agent');
    expect((await cli(['agent', 'add', 'shower', '--ssh-key', key.publicFile])).code).toBe(0);
    expect((await cli(['grant', 'add', '--agent', 'shower', '--connection', 'web'])).code).toBe(0);
    const opts = ['-i', key.privateFile, ...CLIENT_OPTS];
    const remote = path.join(dir, 'up.txt');
    const batch = path.join(dir, 'batch');
    writeFileSync(path.join(dir, 'local.txt'), 'x'.repeat(1234));
    writeFileSync(batch, `put ${path.join(dir, 'local.txt')} ${remote}\n`);
    // One session per client run: an exec and (separately) an sftp upload.
    const r = await run('ssh', ['-p', String(sshPort), ...opts, 'web@127.0.0.1', 'echo shown; exit 3']);
    expect(r.code).toBe(3);
    const s = await run('sftp', ['-P', String(sshPort), ...opts, '-b', batch, 'web@127.0.0.1']);
    expect(s.code).toBe(0);

    const sessions = JSON.parse((await cli(['sessions', 'list', '--json', '--connection', 'web'])).stdout).items as { id: string }[];
    const [sftpSession, execSession] = sessions;
    let shown = JSON.parse((await cli(['sessions', 'show', execSession.id, '--json'])).stdout);
    expect(shown.statements).toEqual([]);
    expect(shown.ssh.channels).toEqual([
      expect.objectContaining({ channelId: 1, kind: 'exec', command: 'echo shown; exit 3', exitStatus: 3, endReason: 'completed', recording: `recordings/${execSession.id}/1.cast`, bytesOut: 6, masked: 0 }),
    ]);
    const table = (await cli(['sessions', 'show', execSession.id])).stdout;
    expect(table).toMatch(/#\s+KIND\s+COMMAND\s+EXIT\s+ENDED\s+BYTES IN\/OUT\s+MASKED\s+RECORDING/);
    expect(table).toMatch(new RegExp(`1\\s+exec\\s+echo shown; exit 3\\s+3\\s+completed\\s+0/6\\s+0\\s+recordings/${execSession.id}/1\\.cast`));

    for (let i = 0; i < 50; i++) {
      shown = JSON.parse((await cli(['sessions', 'show', sftpSession.id, '--json'])).stdout);
      if (shown.ssh.fileOps.length) break;
      await new Promise((res) => setTimeout(res, 100));
    }
    expect(shown.ssh.channels[0]).toMatchObject({ kind: 'sftp', recording: null, playable: false });
    expect(shown.ssh.fileOps).toEqual([expect.objectContaining({ channelId: 1, op: 'write', path: remote, direction: 'upload', bytes: 1234, target: null })]);
    const sftpTable = (await cli(['sessions', 'show', sftpSession.id])).stdout;
    expect(sftpTable).toContain('file operations');
    expect(sftpTable).toMatch(new RegExp(`1\\s+\\S+\\s+write\\s+upload\\s+1234\\s+${remote.replace(/[.]/g, '\\.')}`));
   }, 180_000);
});
