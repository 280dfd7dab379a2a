import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { Client as Ssh2Client, ClientChannel } from 'ssh2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/gateway/core/logger';
import { startGatehouse, type Gatehouse } from '../../src/gateway/gatehouse';
import { ssh2Client } from '../../src/gateway/ssh/ssh2-runtime';
import type { ConnectionDto } from '../../src/shared/contract';
import { freePort, makeKeyPair, TestSshd, type KeyPair } from '../helpers/sshd';

const ACTOR = { actor: 'test' };
const CLIENT_OPTS = ['-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-o', 'BatchMode=yes', '-o', 'IdentitiesOnly=yes'];
const XVFB = '/usr/bin/Xvfb';
const XAUTH = '/usr/bin/xauth';
const XDPYINFO = '/usr/bin/xdpyinfo';

type Run = { code: number | null; stdout: string; stderr: string };

/** Run a program to completion (stdin closed after `input`). */
function run(cmd: string, args: string[], opts: { env?: NodeJS.ProcessEnv; input?: string; timeoutMs?: number } = {}): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'], env: opts.env ?? process.env });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 30_000);
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.stdin.on('error', () => {});
    child.stdin.end(opts.input ?? '');
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** A long-running ssh client whose output can be waited for. */
function start(args: string[], env?: NodeJS.ProcessEnv) {
  const child = spawn('ssh', args, { stdio: ['ignore', 'pipe', 'pipe'], env: env ?? process.env });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  const exited = new Promise<number | null>((r) => child.on('close', r));
  return {
    child,
    exited,
    out: () => stdout,
    err: () => stderr,
    async waitFor(re: RegExp, what: 'out' | 'err' = 'out', ms = 15_000): Promise<RegExpExecArray> {
      for (const deadline = Date.now() + ms; Date.now() < deadline; ) {
        const m = re.exec(what === 'out' ? stdout : stderr);
        if (m) return m;
        if (child.exitCode !== null) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      throw new Error(`no ${re} in ssh ${what} (stdout ${JSON.stringify(stdout)}, stderr ${JSON.stringify(stderr)})`);
    },
  };
}

/** Connect to 127.0.0.1:port, send `text`, half-close, and resolve with the reply (or the error code). */
function talk(port: number, text: string): Promise<string> {
  return new Promise((resolve) => {
    const c = net.connect(port, '127.0.0.1', () => c.end(text));
    let got = '';
    c.on('data', (d) => (got += d));
    c.on('close', () => resolve(got));
    c.on('error', (err: NodeJS.ErrnoException) => resolve(`error:${err.code}`));
  });
}

async function until<T>(probe: () => Promise<T>, ok: (v: T) => boolean, ms = 10_000): Promise<T> {
  let v = await probe();
  for (const deadline = Date.now() + ms; !ok(v) && Date.now() < deadline; ) {
    await new Promise((r) => setTimeout(r, 100));
    v = await probe();
  }
  return v;
}

describe('SSH gateway: remote, agent and X11 forwarding (real OpenSSH on both sides)', () => {
  let sshd: TestSshd;
  let gh: Gatehouse;
  let dir: string;
  let port: number;
  let agentKey: KeyPair;
  let echo: net.Server;
  let echoPort: number;

  const sshArgs = (extra: string[], command?: string, logLevel = 'ERROR') => ['-p', String(port), '-i', agentKey.privateFile, ...CLIENT_OPTS, '-o', `LogLevel=${logLevel}`, ...extra, 'box@127.0.0.1', ...(command === undefined ? [] : [command])];
  const ssh = (extra: string[], command: string, env?: NodeJS.ProcessEnv) => run('ssh', sshArgs(extra, command), { env });
  const audit = () => gh.store.audit.list({ limit: 1000, order: 'asc' });
  const allow = async (kinds: ('tcpip' | 'agent' | 'x11')[]) => {
    const dto = (await gh.api.call('connections.update', { name: 'box', allowForwarding: kinds }, ACTOR)) as ConnectionDto;
    expect(dto.allowForwarding).toEqual(kinds);
  };
  const eventsSince = (n: number) => audit().slice(n);

  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'gh-ssh-fwd2-'));
    sshd = await new TestSshd().start([
      'AllowTcpForwarding yes',
      'AllowAgentForwarding yes',
      'X11Forwarding yes',
      'X11UseLocalhost yes',
      `XAuthLocation ${XAUTH}`,
      // sshd stores the forwarded display's cookie with xauth: keep it out of the login user's ~/.Xauthority.
      `SetEnv XAUTHORITY=${path.join(dir, 'upstream.Xauthority')}`,
    ]);
    gh = await startGatehouse({ dataDir: path.join(dir, 'data'), pgPort: 0, consolePort: null, sshPort: 0, log: silentLogger });
    port = gh.info().listeners.ssh!.port;
    agentKey = makeKeyPair(dir, 'agent_key');
    await gh.api.call('connections.add', { name: 'box', kind: 'ssh', host: '127.0.0.1', port: sshd.port, username: sshd.user, privateKey: sshd.userKey.privateKey }, ACTOR);
    await gh.api.call('agents.add', { name: 'bot', sshPublicKey: agentKey.publicKey }, ACTOR);
    await gh.api.call('grants.add', { agent: 'bot', connection: 'box' }, ACTOR);
    // A service on the agent's side: answers "echo:" + what it got, then closes.
    echo = net.createServer((s) => {
      const got: Buffer[] = [];
      s.on('data', (d) => got.push(d));
      s.on('end', () => s.end(`echo:${Buffer.concat(got).toString()}`));
    });
    await new Promise<void>((r) => echo.listen(0, '127.0.0.1', r));
    echoPort = (echo.address() as net.AddressInfo).port;
  }, 60_000);

  afterAll(async () => {
    await gh?.close();
    await sshd?.stop();
    echo?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  describe('remote forwarding (ssh -R)', () => {
    it('refused by default: ExitOnForwardFailure ends ssh with a clear message, nothing listens upstream, audited', async () => {
      await allow([]);
      const rport = await freePort();
      const before = audit().length;
      const r = await ssh(['-o', 'ExitOnForwardFailure=yes', '-R', `${rport}:127.0.0.1:${echoPort}`], 'sleep 2');
      expect(r.code).toBe(255);
      expect(r.stderr).toContain(`remote port forwarding failed for listen port ${rport}`);
      expect(await talk(rport, 'x')).toBe('error:ECONNREFUSED');
      const refused = eventsSince(before).filter((e) => e.kind === 'ssh.refused');
      expect(refused).toEqual([expect.objectContaining({ detail: expect.objectContaining({ request: 'tcpip-forward', bind: `localhost:${rport}`, reason: 'forwarding_not_allowed' }) })]);
      expect(refused[0].sessionId).toBeTruthy();
    });

    it('allowed (tcpip): a connection to the port on the upstream host reaches the agent\'s service; unbound when the session ends', async () => {
      await allow(['tcpip']);
      const rport = await freePort();
      const before = audit().length;
      const tunnel = start(sshArgs(['-o', 'ExitOnForwardFailure=yes', '-R', `${rport}:127.0.0.1:${echoPort}`], 'echo up; sleep 4'));
      await tunnel.waitFor(/up\n/);
      // The upstream host is this machine: connect to its listener as a program there would.
      expect(await until(() => talk(rport, 'from-upstream'), (v) => v.startsWith('echo:'))).toBe('echo:from-upstream');
      expect(await talk(rport, 'again')).toBe('echo:again');
      expect(await tunnel.exited).toBe(0);
      expect(tunnel.err()).toBe('');
      // The session is over: the listener on the upstream is gone.
      expect(await until(() => talk(rport, 'late'), (v) => v === 'error:ECONNREFUSED')).toBe('error:ECONNREFUSED');

      const events = eventsSince(before);
      expect(events.find((e) => e.kind === 'ssh.forward_accepted')?.detail).toMatchObject({ request: 'tcpip-forward', bind: `localhost:${rport}` });
      const opened = events.filter((e) => e.kind === 'ssh.forwarded');
      expect(opened).toHaveLength(2);
      expect(opened[0].detail).toMatchObject({ request: 'forwarded-tcpip', bind: `localhost:${rport}`, origin: expect.stringMatching(/^127\.0\.0\.1:\d+$/) });
      const closed = events.filter((e) => e.kind === 'ssh.forward_closed');
      expect(closed.map((e) => e.detail)).toEqual([
        expect.objectContaining({ request: 'forwarded-tcpip', bytesIn: 'echo:from-upstream'.length, bytesOut: 'from-upstream'.length }),
        expect.objectContaining({ request: 'forwarded-tcpip', bytesIn: 'echo:again'.length, bytesOut: 'again'.length }),
      ]);
      expect(events.find((e) => e.kind === 'ssh.forward_cancelled')?.detail).toMatchObject({ request: 'tcpip-forward', bind: `localhost:${rport}`, reason: 'session_ended' });
    }, 30_000);

    it('port 0: the port the upstream picked is reported back to the agent\'s ssh and works', async () => {
      await allow(['tcpip']);
      // "Allocated port N for remote forward" is an INFO message.
      const tunnel = start(sshArgs(['-o', 'ExitOnForwardFailure=yes', '-R', `0:127.0.0.1:${echoPort}`], 'echo up; sleep 3', 'INFO'));
      const m = await tunnel.waitFor(/Allocated port (\d+) for remote forward/, 'err');
      const rport = Number(m[1]);
      await tunnel.waitFor(/up\n/);
      expect(await until(() => talk(rport, 'dynamic'), (v) => v.startsWith('echo:'))).toBe('echo:dynamic');
      expect(await tunnel.exited).toBe(0);
    }, 30_000);

    it('cancel-tcpip-forward (an ssh2 client\'s unforwardIn) removes the listener on the upstream, audited', async () => {
      await allow(['tcpip']);
      const before = audit().length;
      const c = new (ssh2Client())();
      await new Promise<void>((resolve, reject) => {
        c.once('ready', () => resolve());
        c.once('error', reject);
        c.connect({ host: '127.0.0.1', port, username: 'box', privateKey: readFileSync(agentKey.privateFile), readyTimeout: 15_000 });
      });
      try {
        // Connections to the bound port come back to this client: answer them like the echo service.
        c.on('tcp connection', (_info, accept) => {
          const ch = accept();
          let got = '';
          ch.on('data', (d: Buffer) => (got += d));
          ch.on('end', () => ch.end(`ssh2:${got}`));
        });
        const rport = await new Promise<number>((resolve, reject) => c.forwardIn('127.0.0.1', 0, (err, p) => (err ? reject(err) : resolve(p))));
        expect(rport).toBeGreaterThan(0);
        expect(await talk(rport, 'hello')).toBe('ssh2:hello');
        await new Promise<void>((resolve, reject) => c.unforwardIn('127.0.0.1', rport, (err) => (err ? reject(err) : resolve())));
        expect(await talk(rport, 'gone')).toBe('error:ECONNREFUSED');
        const events = eventsSince(before);
        const mine = events.filter((e) => e.detail.bind === `127.0.0.1:${rport}`);
        expect(mine.find((e) => e.kind === 'ssh.forward_accepted')?.detail).toMatchObject({ request: 'tcpip-forward' });
        expect(mine.find((e) => e.kind === 'ssh.forward_cancelled')?.detail).toMatchObject({ request: 'tcpip-forward', reason: 'cancelled' });
      } finally {
        c.end();
      }
    }, 30_000);

    it('revoking the grant ends the session and unbinds the listener', async () => {
      await allow(['tcpip']);
      const rport = await freePort();
      const tunnel = start(sshArgs(['-o', 'ExitOnForwardFailure=yes', '-R', `${rport}:127.0.0.1:${echoPort}`], 'echo up; sleep 30'));
      try {
        await tunnel.waitFor(/up\n/);
        expect(await until(() => talk(rport, 'before'), (v) => v.startsWith('echo:'))).toBe('echo:before');
        const revoked = (await gh.api.call('grants.revoke', { agent: 'bot', connection: 'box' }, ACTOR)) as { sessionsClosed: number };
        expect(revoked.sessionsClosed).toBe(1);
        await tunnel.exited;
        expect(await until(() => talk(rport, 'after'), (v) => v === 'error:ECONNREFUSED')).toBe('error:ECONNREFUSED');
      } finally {
        tunnel.child.kill('SIGKILL');
        await gh.api.call('grants.add', { agent: 'bot', connection: 'box' }, ACTOR);
      }
    }, 30_000);
  });

  describe('agent forwarding (ssh -A)', () => {
    let agent: ChildProcess;
    let env: NodeJS.ProcessEnv;
    let fingerprint: string;

    beforeAll(async () => {
      const sock = path.join(dir, 'agent.sock');
      agent = spawn('ssh-agent', ['-D', '-a', sock], { stdio: 'ignore' });
      for (let i = 0; i < 100 && !existsSync(sock); i++) await new Promise((r) => setTimeout(r, 20));
      env = { ...process.env, SSH_AUTH_SOCK: sock };
      const forwarded = makeKeyPair(dir, 'forwarded_key');
      execFileSync('ssh-add', [forwarded.privateFile], { env, stdio: 'ignore' });
      fingerprint = execFileSync('ssh-keygen', ['-lf', forwarded.publicFile], { encoding: 'utf8' }).split(' ')[1];
      expect(fingerprint).toMatch(/^SHA256:/);
    });

    afterAll(() => {
      agent?.kill('SIGTERM');
    });

    it('refused by default: no agent upstream, the agent is told on stderr, audited', async () => {
      await allow(['tcpip', 'x11']);
      const before = audit().length;
      const r = await ssh(['-A'], 'echo "sock=${SSH_AUTH_SOCK:-none}"; ssh-add -l; echo "rc=$?"', env);
      expect(r.stdout).toContain('sock=none\n');
      expect(r.stdout).toContain('rc=2\n');
      expect(r.stdout).not.toContain(fingerprint);
      expect(r.stderr).toContain('gatehouse: agent forwarding is not allowed on this connection');
      expect(r.stderr).toContain('Could not open a connection to your authentication agent');
      expect(eventsSince(before).filter((e) => e.kind === 'ssh.refused').map((e) => e.detail)).toEqual([
        expect.objectContaining({ request: 'auth-agent', reason: 'forwarding_not_allowed' }),
      ]);
    });

    it('allowed (agent): ssh-add -l on the upstream host lists the agent\'s key through the gateway; each agent channel audited', async () => {
      await allow(['agent']);
      const before = audit().length;
      const r = await ssh(['-A'], 'ssh-add -l; echo "rc=$?"', env);
      expect(r.stderr).toBe('');
      expect(r.stdout).toContain(fingerprint);
      expect(r.stdout).toContain('rc=0\n');
      const events = eventsSince(before);
      expect(events.find((e) => e.kind === 'ssh.forward_accepted')?.detail).toMatchObject({ request: 'auth-agent' });
      expect(events.filter((e) => e.kind === 'ssh.forwarded').map((e) => e.detail)).toEqual([expect.objectContaining({ request: 'auth-agent@openssh.com' })]);
      const closed = await until(
        async () => eventsSince(before).filter((e) => e.kind === 'ssh.forward_closed'),
        (c) => c.length === 1,
      );
      // An identities request (5 bytes) and the agent's answer with the key.
      expect(closed[0].detail).toMatchObject({ request: 'auth-agent@openssh.com', bytesOut: 5 });
      expect(closed[0].detail.bytesIn as number).toBeGreaterThan(50);
      // Without -A the agent's client is never asked, even though the connection allows it.
      const plain = await ssh([], 'echo "sock=${SSH_AUTH_SOCK:-none}"', env);
      expect(plain.stdout).toBe('sock=none\n');
    });

    it('fail closed: when the allowances cannot be read, remote and agent forwarding are refused and audited', async () => {
      await allow(['tcpip', 'agent', 'x11']);
      const rport = await freePort();
      const before = audit().length;
      // A real read failure in the gateway's store: the settings table is gone for the length of this test.
      gh.store.db.exec('ALTER TABLE ssh_connection_settings RENAME TO ssh_connection_settings_away');
      try {
        const r = await ssh(['-A', '-o', 'ExitOnForwardFailure=yes', '-R', `${rport}:127.0.0.1:${echoPort}`], 'echo "sock=${SSH_AUTH_SOCK:-none}"', env);
        expect(r.code).toBe(255);
        expect(r.stderr).toContain(`remote port forwarding failed for listen port ${rport}`);
        const r2 = await ssh(['-A'], 'echo "sock=${SSH_AUTH_SOCK:-none}"', env);
        expect(r2.stdout).toBe('sock=none\n');
        expect(r2.stderr).toContain('gatehouse: agent forwarding is not allowed on this connection');
      } finally {
        gh.store.db.exec('ALTER TABLE ssh_connection_settings_away RENAME TO ssh_connection_settings');
      }
      const refused = eventsSince(before).filter((e) => e.kind === 'ssh.refused').map((e) => [e.detail.request, e.detail.reason]);
      expect(refused).toEqual(expect.arrayContaining([['tcpip-forward', 'settings_unreadable'], ['auth-agent', 'settings_unreadable']]));
      expect(eventsSince(before).some((e) => e.kind === 'ssh.forward_accepted')).toBe(false);
    }, 30_000);
  });

  describe('the upstream host refuses what the connection allows', () => {
    let strict: TestSshd;

    beforeAll(async () => {
      strict = await new TestSshd().start(['X11Forwarding no', 'AllowTcpForwarding no']);
      await gh.api.call(
        'connections.add',
        { name: 'strict', kind: 'ssh', host: '127.0.0.1', port: strict.port, username: strict.user, privateKey: strict.userKey.privateKey, allowForwarding: ['tcpip', 'agent', 'x11'] },
        ACTOR,
      );
      await gh.api.call('grants.add', { agent: 'bot', connection: 'strict' }, ACTOR);
    }, 30_000);

    afterAll(async () => {
      await strict?.stop();
    });

    const strictSsh = (extra: string[], command: string, env?: NodeJS.ProcessEnv) =>
      run('ssh', ['-p', String(port), '-i', agentKey.privateFile, ...CLIENT_OPTS, '-o', 'LogLevel=ERROR', ...extra, 'strict@127.0.0.1', command], { env });

    it('X11: the command still runs without it, the agent is told, audited as forward_failed', async () => {
      const before = audit().length;
      // Any DISPLAY makes ssh -X ask (without xauth data it sends a made-up cookie).
      const r = await strictSsh(['-X'], 'echo "display=${DISPLAY:-none}"', { ...process.env, DISPLAY: ':1', XAUTHORITY: path.join(dir, 'none.Xauthority') });
      expect(r.code).toBe(0);
      expect(r.stdout).toBe('display=none\n');
      expect(r.stderr).toContain('gatehouse: the upstream host refused X11 forwarding; continuing without it');
      expect(eventsSince(before).filter((e) => e.kind === 'ssh.forward_failed').map((e) => e.detail)).toEqual([
        expect.objectContaining({ request: 'x11', reason: 'upstream_refused' }),
      ]);
    });

    it('ssh -R: the upstream\'s refusal reaches the agent\'s ssh, audited as forward_failed', async () => {
      const rport = await freePort();
      const before = audit().length;
      const r = await strictSsh(['-o', 'ExitOnForwardFailure=yes', '-R', `${rport}:127.0.0.1:${echoPort}`], 'true');
      expect(r.code).toBe(255);
      expect(r.stderr).toContain(`remote port forwarding failed for listen port ${rport}`);
      expect(eventsSince(before).find((e) => e.kind === 'ssh.forward_failed')?.detail).toMatchObject({ request: 'tcpip-forward', reason: 'upstream_refused' });
    });
  });

  describe.skipIf(!existsSync(XVFB) || !existsSync(XAUTH))('X11 forwarding (ssh -X)', () => {
    let xvfb: ChildProcess;
    let env: NodeJS.ProcessEnv;
    const upstreamXauthority = () => path.join(dir, 'upstream.Xauthority');

    /** An X11 connection setup (little-endian, protocol 11.0) with the given auth; resolves with the server's first reply byte (1 = success). */
    const x11Hello = (port: number, proto: string, cookie: Buffer) =>
      new Promise<number>((resolve, reject) => {
        const pad = (n: number) => (4 - (n % 4)) % 4;
        const head = Buffer.alloc(12);
        head.write('l', 0, 'latin1');
        head.writeUInt16LE(11, 2);
        head.writeUInt16LE(0, 4);
        head.writeUInt16LE(proto.length, 6);
        head.writeUInt16LE(cookie.length, 8);
        const setup = Buffer.concat([head, Buffer.from(proto, 'latin1'), Buffer.alloc(pad(proto.length)), cookie, Buffer.alloc(pad(cookie.length))]);
        const s = net.connect(port, '127.0.0.1', () => s.write(setup));
        s.once('data', (d) => {
          resolve(d[0]);
          s.destroy();
        });
        // Closed without an answer (the agent's ssh refused the X11 connection).
        s.on('close', () => resolve(-1));
        s.on('error', reject);
      });

    beforeAll(async () => {
      let display = 90;
      while (existsSync(`/tmp/.X${display}-lock`) || existsSync(`/tmp/.X11-unix/X${display}`)) display++;
      const cookie = randomBytes(16).toString('hex');
      const xauthority = path.join(dir, 'local.Xauthority');
      execFileSync(XAUTH, ['-f', xauthority, 'add', `:${display}`, 'MIT-MAGIC-COOKIE-1', cookie]);
      xvfb = spawn(XVFB, [`:${display}`, '-nolisten', 'tcp', '-auth', xauthority], { stdio: 'ignore' });
      for (let i = 0; i < 200 && !existsSync(`/tmp/.X11-unix/X${display}`); i++) await new Promise((r) => setTimeout(r, 25));
      env = { ...process.env, DISPLAY: `:${display}`, XAUTHORITY: xauthority };
      if (existsSync(XDPYINFO)) expect(spawnSync(XDPYINFO, [], { env, encoding: 'utf8' }).stdout).toContain(`name of display:    :${display}`);
    });

    afterAll(() => {
      xvfb?.kill('SIGTERM');
    });

    it('refused by default: no DISPLAY upstream, the agent is told, audited', async () => {
      await allow(['tcpip', 'agent']);
      const before = audit().length;
      const r = await ssh(['-X'], 'echo "display=${DISPLAY:-none}"', env);
      expect(r.stdout).toBe('display=none\n');
      expect(r.stderr).toContain('gatehouse: X11 forwarding is not allowed on this connection');
      expect(r.stderr).toContain('X11 forwarding request failed on channel 0');
      expect(eventsSince(before).filter((e) => e.kind === 'ssh.refused').map((e) => e.detail)).toEqual([expect.objectContaining({ request: 'x11', reason: 'forwarding_not_allowed' })]);
    });

    it('allowed (x11): an X11 client on the upstream host reaches the agent\'s display through the gateway', async () => {
      await allow(['x11']);
      const before = audit().length;
      const session = start(sshArgs(['-X'], 'echo "display=$DISPLAY"; sleep 5'), env);
      const display = (await session.waitFor(/display=(\S+)\n/))[1];
      const m = /^localhost:(\d+)\.0$/.exec(display);
      expect(m, display).not.toBeNull();
      // The cookie sshd stored for that display (the agent's ssh's fake one; it swaps in the real cookie).
      const entry = execFileSync(XAUTH, ['-f', upstreamXauthority(), 'list', `unix:${m![1]}`], { encoding: 'utf8' }).trim().split(/\s+/);
      expect(entry[1]).toBe('MIT-MAGIC-COOKIE-1');
      const tcpPort = 6000 + Number(m![1]);
      expect(await x11Hello(tcpPort, 'MIT-MAGIC-COOKIE-1', Buffer.from(entry[2], 'hex'))).toBe(1);
      // A wrong cookie is refused by the agent's ssh (it closes the channel), so the gateway did not open it up.
      expect(await x11Hello(tcpPort, 'MIT-MAGIC-COOKIE-1', randomBytes(16))).toBe(-1);
      await session.exited;

      const events = eventsSince(before);
      expect(events.find((e) => e.kind === 'ssh.forward_accepted')?.detail).toMatchObject({ request: 'x11', screen: 0 });
      const opened = events.filter((e) => e.kind === 'ssh.forwarded');
      expect(opened.length).toBeGreaterThanOrEqual(1);
      expect(opened[0].detail).toMatchObject({ request: 'x11', origin: expect.stringMatching(/^127\.0\.0\.1:\d+$/) });
      const closed = events.filter((e) => e.kind === 'ssh.forward_closed' && e.detail.request === 'x11');
      // To the agent's display: the 48-byte connection setup; from it: the server's reply (8 bytes of header at least).
      expect(closed[0].detail).toMatchObject({ request: 'x11', bytesOut: 48 });
      expect(closed[0].detail.bytesIn as number).toBeGreaterThan(8);
    }, 30_000);

    it.skipIf(!existsSync(XDPYINFO))('allowed (x11): xdpyinfo on the upstream host talks to the agent\'s Xvfb', async () => {
      await allow(['x11']);
      const r = await ssh(['-X'], 'echo "display=$DISPLAY"; xdpyinfo | head -1', env);
      expect(r.stdout).toMatch(/^display=localhost:(\d+)\.0\nname of display: {4}localhost:\1\.0\n$/);
    }, 30_000);
  });
});

/**
 * Signals need an upstream login that is not root: OpenSSH's sshd (session.c, session_signal_req) only
 * delivers a "signal" request from the privilege-separated session process, and it gives up privilege
 * separation after a root login ("session signalling requires privilege separation" in its log). As root
 * (CI, this machine) the test logs in upstream as the `postgres` system account that the PostgreSQL tests
 * use already; the OpenSSH client cannot send signals, so ssh2's client is the agent.
 */
const canLoginAsOther = process.getuid?.() === 0 && spawnSync('id', ['-u', 'postgres']).status === 0;

describe.skipIf(!canLoginAsOther)('SSH gateway: signals reach the upstream process', () => {
  let sshd: TestSshd;
  let gh: Gatehouse;
  let dir: string;
  let port: number;
  let agentKey: KeyPair;

  const connect = () =>
    new Promise<Ssh2Client>((resolve, reject) => {
      const c = new (ssh2Client())();
      c.once('ready', () => resolve(c));
      c.once('error', reject);
      c.connect({ host: '127.0.0.1', port, username: 'sig', privateKey: readFileSync(agentKey.privateFile), readyTimeout: 15_000 });
    });
  const exec = (c: Ssh2Client, command: string, pty: boolean) =>
    new Promise<ClientChannel>((resolve, reject) => c.exec(command, pty ? { pty: { rows: 24, cols: 80, term: 'xterm' } } : {}, (err, ch) => (err ? reject(err) : resolve(ch))));
  /** Wait for `ready` in the output, send `signal`, resolve with what came back. */
  const signalled = (ch: ClientChannel, signal: string) =>
    new Promise<{ out: string; code: number | null; signal: string | null }>((resolve) => {
      let out = '';
      let sent = false;
      let code: number | null = null;
      let sig: string | null = null;
      const onData = (d: Buffer) => {
        out += d.toString();
        if (!sent && out.includes('ready')) {
          sent = true;
          ch.signal(signal);
        }
      };
      ch.on('data', onData);
      ch.stderr.on('data', onData);
      ch.on('exit', (c: number | null, s?: string) => {
        code = c ?? null;
        sig = s ?? null;
      });
      ch.on('close', () => resolve({ out, code, signal: sig }));
    });

  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'gh-ssh-sig-'));
    sshd = await new TestSshd({ user: 'postgres' }).start();
    gh = await startGatehouse({ dataDir: path.join(dir, 'data'), pgPort: 0, consolePort: null, sshPort: 0, log: silentLogger });
    port = gh.info().listeners.ssh!.port;
    agentKey = makeKeyPair(dir, 'agent_key');
    await gh.api.call('connections.add', { name: 'sig', kind: 'ssh', host: '127.0.0.1', port: sshd.port, username: 'postgres', privateKey: sshd.userKey.privateKey }, ACTOR);
    await gh.api.call('agents.add', { name: 'bot', sshPublicKey: agentKey.publicKey }, ACTOR);
    await gh.api.call('grants.add', { agent: 'bot', connection: 'sig' }, ACTOR);
  }, 60_000);

  afterAll(async () => {
    await gh?.close();
    await sshd?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('exec without a PTY: TERM ends the command, the exit signal comes back and is recorded', async () => {
    const c = await connect();
    try {
      const started = Date.now();
      const r = await signalled(await exec(c, 'echo ready; sleep 30; echo done', false), 'TERM');
      expect(r).toEqual({ out: 'ready\n', code: null, signal: 'SIGTERM' });
      expect(Date.now() - started).toBeLessThan(20_000);
    } finally {
      c.end();
    }
    const session = gh.store.sessions.list({ limit: 1, connectionName: 'sig' }).items[0];
    const rec = await until(
      async () => gh.store.ssh.listRecordings(session.id)[0],
      (x) => x?.endedAt !== null,
    );
    expect(rec).toMatchObject({ kind: 'exec', exitSignal: 'SIGTERM', exitStatus: null });
  }, 40_000);

  it('with a PTY: a trap in the upstream shell sees TERM and exits with its own status', async () => {
    const c = await connect();
    try {
      const r = await signalled(await exec(c, "trap 'echo got-term; exit 3' TERM; echo ready; sleep 30 & wait", true), 'TERM');
      expect(r.out).toContain('got-term');
      expect(r.code).toBe(3);
    } finally {
      c.end();
    }
  }, 40_000);
});
