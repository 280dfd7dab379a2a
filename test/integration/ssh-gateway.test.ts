import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/gateway/core/logger';
import { startGatehouse, type Gatehouse } from '../../src/gateway/gatehouse';
import { buildCli, gatehouse, startServe, type ServeProcess } from '../helpers/cli';
import { makeKeyPair, TestSshd, type KeyPair } from '../helpers/sshd';

const ACTOR = { actor: 'test' };

/** Run the real OpenSSH client (or scp/sftp) to completion. */
function run(cmd: string, args: string[], opts: { input?: string | Buffer; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}) {
  return new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: Buffer; stderr: string }>((resolve) => {
    const child = spawn(cmd, args, { env: { ...process.env, ...opts.env }, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 30_000);
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d) => (stderr += d));
    child.stdin.on('error', () => {});
    child.stdin.end(opts.input ?? '');
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout: Buffer.concat(out), stderr });
    });
  });
}

/** Poll until `check` holds (10 s at most). */
async function waitFor(check: () => boolean, what = 'condition'): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

let tmuxCount = 0;

/** A detached tmux session on a private server socket (a real terminal emulator for the tests). */
class Tmux {
  readonly socket = `gh-ssh-test-${process.pid}-${++tmuxCount}`;
  private tmux(args: string[]): string {
    const r = spawnSync('tmux', ['-L', this.socket, ...args], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`tmux ${args[0]} failed: ${r.stderr}`);
    return r.stdout;
  }
  start(command: string, cols = 80, rows = 24): void {
    this.tmux(['new-session', '-d', '-s', 't', '-x', String(cols), '-y', String(rows), command]);
  }
  keys(...keys: string[]): void {
    this.tmux(['send-keys', '-t', 't', ...keys]);
  }
  resize(cols: number, rows: number): void {
    this.tmux(['resize-window', '-t', 't', '-x', String(cols), '-y', String(rows)]);
  }
  /** The visible screen, one string per row, trailing blanks trimmed. */
  screen(): string[] {
    return this.tmux(['capture-pane', '-p', '-t', 't']).split('\n').map((l) => l.trimEnd());
  }
  kill(): void {
    spawnSync('tmux', ['-L', this.socket, 'kill-server']);
  }
}

const CLIENT_OPTS = ['-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-o', 'BatchMode=yes', '-o', 'LogLevel=ERROR', '-o', 'IdentitiesOnly=yes'];

describe('SSH gateway with real OpenSSH on both sides', () => {
  let sshd: TestSshd;
  let other: TestSshd;
  let gh: Gatehouse;
  let dir: string;
  let dataDir: string;
  let port: number;
  let agentKey: KeyPair;
  let strangerKey: KeyPair;
  let noGrantKey: KeyPair;
  let agentSecret: string;

  const ssh = (user: string, command: string | null, opts: { key?: KeyPair; extra?: string[]; input?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}) =>
    run('ssh', ['-p', String(port), '-i', (opts.key ?? agentKey).privateFile, ...CLIENT_OPTS, ...(opts.extra ?? []), `${user}@127.0.0.1`, ...(command === null ? [] : [command])], opts);

  const auditKinds = () => gh.store.audit.list({ limit: 500, order: 'asc' });

  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'gh-ssh-test-'));
    dataDir = path.join(dir, 'data');
    sshd = await new TestSshd().start();
    other = await new TestSshd().start();
    gh = await startGatehouse({ dataDir, pgPort: 0, consolePort: null, sshPort: 0, log: silentLogger });
    port = gh.info().listeners.ssh!.port;
    agentKey = makeKeyPair(dir, 'agent_key');
    strangerKey = makeKeyPair(dir, 'stranger_key');
    noGrantKey = makeKeyPair(dir, 'nogrant_key', 'rsa');

    await gh.api.call('connections.add', { name: 'box', kind: 'ssh', host: '127.0.0.1', port: sshd.port, username: sshd.user, privateKey: sshd.userKey.privateKey }, ACTOR);
    await gh.api.call('connections.add', { name: 'down', kind: 'ssh', host: '127.0.0.1', port: 1, username: 'root', privateKey: sshd.userKey.privateKey }, ACTOR);
    await gh.api.call('connections.add', { name: 'badcred', kind: 'ssh', host: '127.0.0.1', port: sshd.port, username: sshd.user, privateKey: strangerKey.privateKey }, ACTOR);
    await gh.api.call('connections.add', { name: 'moved', kind: 'ssh', host: '127.0.0.1', port: sshd.port, username: sshd.user, privateKey: sshd.userKey.privateKey }, ACTOR);
    const added = (await gh.api.call('agents.add', { name: 'bot', sshPublicKey: agentKey.publicKey }, ACTOR)) as { secret: string };
    agentSecret = added.secret;
    await gh.api.call('agents.add', { name: 'idle', sshPublicKey: noGrantKey.publicKey }, ACTOR);
    for (const c of ['box', 'down', 'badcred', 'moved']) await gh.api.call('grants.add', { agent: 'bot', connection: c }, ACTOR);
  }, 60_000);

  afterAll(async () => {
    await gh?.close();
    await sshd?.stop();
    await other?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('runs a command upstream with the stored key: stdout, stderr apart, exit status; recorded as asciicast', async () => {
    const r = await ssh('box', 'echo out-$((40+2)); echo err-line >&2; exit 3');
    expect(r.stderr).toBe('err-line\n');
    expect(r.stdout.toString()).toBe('out-42\n');
    expect(r.code).toBe(3);

    const info = gh.info();
    expect(info.sshHostKeyFingerprint).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);
    const keygen = spawnSync('ssh-keygen', ['-lf', path.join(dataDir, 'ssh_host_ed25519_key')], { encoding: 'utf8' });
    expect(keygen.stdout).toContain(info.sshHostKeyFingerprint!);

    const sessions = gh.store.sessions.list({ limit: 10, connectionName: 'box' }).items;
    expect(sessions[0].protocol).toBe('ssh');
    expect(sessions[0].agentName).toBe('bot');
    const recs = gh.store.ssh.listRecordings(sessions[0].id);
    expect(recs).toHaveLength(1);
    expect(recs[0]).toMatchObject({ kind: 'exec', command: 'echo out-$((40+2)); echo err-line >&2; exit 3', exitStatus: 3, endReason: 'completed' });
    const cast = readFileSync(path.join(dataDir, recs[0].file!), 'utf8').trim().split('\n');
    const header = JSON.parse(cast[0]);
    expect(header).toMatchObject({ version: 2, width: 80, height: 24, command: 'echo out-$((40+2)); echo err-line >&2; exit 3' });
    const output = cast.slice(1).map((l) => JSON.parse(l) as [number, string, string]).filter((e) => e[1] === 'o').map((e) => e[2]).join('');
    expect(output).toContain('out-42\n');
    expect(output).toContain('err-line\n');

    const pinned = auditKinds().filter((e) => e.kind === 'ssh.host_key_pinned' && e.connectionName === 'box');
    expect(pinned).toHaveLength(1);
    expect(pinned[0].detail.fingerprint).toBe(spawnSync('ssh-keygen', ['-lf', sshd.hostKey.publicFile], { encoding: 'utf8' }).stdout.split(' ')[1]);
  });

  it('the exported recording plays with asciinema', async () => {
    if (!existsSync('/usr/bin/asciinema')) return;
    const r = await ssh('box', 'printf "a\\033[1mbold\\033[0m\\n"; printf "h\\303\\251llo\\n"');
    expect(r.code).toBe(0);
    const session = gh.store.sessions.list({ limit: 1, connectionName: 'box' }).items[0];
    const rec = gh.store.ssh.listRecordings(session.id)[0];
    // asciinema reads /dev/tty, so it runs in a tmux pane; its output goes to a file.
    const out = path.join(dir, 'cat.out');
    const tmux = new Tmux();
    try {
      tmux.start(`asciinema cat ${path.join(dataDir, rec.file!)} > ${out}; echo $? > ${out}.rc; sleep 60`);
      await waitFor(() => existsSync(`${out}.rc`) && readFileSync(`${out}.rc`, 'utf8').trim() !== '');
    } finally {
      tmux.kill();
    }
    expect(readFileSync(`${out}.rc`, 'utf8').trim()).toBe('0');
    expect(readFileSync(out, 'utf8')).toBe('a\x1b[1mbold\x1b[0m\nhéllo\n');
  });

  it('logs in with the agent secret as password for user agent@connection', async () => {
    const askpass = path.join(dir, 'askpass.sh');
    writeFileSync(askpass, `#!/bin/sh\necho '${agentSecret}'\n`, { mode: 0o700 });
    const opts = ['-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-o', 'LogLevel=ERROR', '-o', 'PubkeyAuthentication=no', '-o', 'PreferredAuthentications=password', '-o', 'NumberOfPasswordPrompts=1'];
    const r = await run('ssh', ['-p', String(port), ...opts, 'bot@box@127.0.0.1', 'echo via-password'], {
      env: { SSH_ASKPASS: askpass, SSH_ASKPASS_REQUIRE: 'force', DISPLAY: ':0' },
    });
    expect(r.stderr).toBe('');
    expect(r.stdout.toString()).toBe('via-password\n');
    expect(r.code).toBe(0);
  });

  it('a wrong key fails SSH authentication, audited once', async () => {
    const before = auditKinds().length;
    const r = await ssh('box', 'true', { key: strangerKey });
    expect(r.code).toBe(255);
    expect(r.stderr).toMatch(/Permission denied \(publickey,password\)/);
    const events = auditKinds().slice(before).filter((e) => e.kind === 'auth.failed');
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ connectionName: 'box', agentName: null });
    expect(events[0].detail).toMatchObject({ protocol: 'ssh', reason: 'unknown_key' });
  });

  it('an unknown connection gets a clear message and exit 255', async () => {
    const r = await ssh('nope', 'true');
    expect(r.code).toBe(255);
    expect(r.stderr).toContain('gatehouse: connection "nope" does not exist');
    expect(auditKinds().some((e) => e.kind === 'access.denied' && e.connectionName === 'nope' && e.detail.reason === 'unknown_connection')).toBe(true);
  });

  it('an agent without a grant is refused with a clear message', async () => {
    const r = await ssh('box', 'true', { key: noGrantKey });
    expect(r.code).toBe(255);
    expect(r.stderr).toContain('gatehouse: agent "idle" has no active grant for connection "box"');
    expect(auditKinds().some((e) => e.kind === 'access.denied' && e.agentName === 'idle' && e.detail.reason === 'no_grant')).toBe(true);
  });

  it('an upstream that is down gets a clear message', async () => {
    const r = await ssh('down', 'true');
    expect(r.code).toBe(255);
    expect(r.stderr).toMatch(/gatehouse: connection "down" \(127\.0\.0\.1:1\) is unreachable/);
    expect(auditKinds().some((e) => e.kind === 'upstream.failed' && e.connectionName === 'down' && e.detail.reason === 'tcp')).toBe(true);
  });

  it('an upstream that refuses the stored credential gets a clear message', async () => {
    const r = await ssh('badcred', 'true');
    expect(r.code).toBe(255);
    expect(r.stderr).toContain('gatehouse: gatehouse could not log in to connection "badcred"');
    expect(r.stderr).not.toContain('PRIVATE KEY');
    expect(auditKinds().some((e) => e.kind === 'upstream.failed' && e.connectionName === 'badcred' && e.detail.reason === 'auth')).toBe(true);
  });

  it('a changed upstream host key is refused (pinned on first use)', async () => {
    expect((await ssh('moved', 'echo first')).stdout.toString()).toBe('first\n');
    // Same connection, now answered by another server with another host key.
    await gh.api.call('connections.update', { name: 'moved', port: other.port }, ACTOR);
    const r = await ssh('moved', 'echo second');
    expect(r.code).toBe(255);
    expect(r.stdout.toString()).toBe('');
    expect(r.stderr).toMatch(/gatehouse: the host key of connection "moved" \(127\.0\.0\.1:\d+\) changed: pinned SHA256:\S+, offered SHA256:\S+; refusing to connect/);
    expect(auditKinds().some((e) => e.kind === 'ssh.host_key_mismatch' && e.connectionName === 'moved')).toBe(true);
  });

  it('refuses port forwarding and stdio forwarding, audited', async () => {
    const w = await ssh('box', null, { extra: ['-W', '127.0.0.1:9'] });
    expect(w.code).toBe(255);
    expect(w.stderr).toMatch(/stdio forwarding failed|administratively prohibited/);
    const rf = await ssh('box', 'true', { extra: ['-o', 'ExitOnForwardFailure=yes', '-R', '0:127.0.0.1:9'] });
    expect(rf.code).toBe(255);
    expect(rf.stderr).toMatch(/remote port forwarding failed/);
    const refused = auditKinds().filter((e) => e.kind === 'ssh.refused').map((e) => e.detail.request);
    expect(refused).toEqual(expect.arrayContaining(['direct-tcpip', 'tcpip-forward']));
  });

  it('passes an exit signal back', async () => {
    const r = await ssh('box', 'kill -TERM $$');
    expect(r.code).toBe(255);
    const session = gh.store.sessions.list({ limit: 1, connectionName: 'box' }).items[0];
    expect(gh.store.ssh.listRecordings(session.id)[0]).toMatchObject({ exitSignal: 'SIGTERM', exitStatus: null });
  });

  it('a client dropping mid-transfer: audited, recording kept and closed', async () => {
    const before = auditKinds().length;
    const child = spawn('ssh', ['-p', String(port), '-i', agentKey.privateFile, ...CLIENT_OPTS, 'box@127.0.0.1', 'while :; do echo line-of-output; done'], { stdio: ['ignore', 'pipe', 'ignore'] });
    let got = 0;
    await new Promise<void>((resolve) => {
      child.stdout.on('data', (d: Buffer) => {
        got += d.length;
        if (got > 200_000) {
          child.kill('SIGKILL');
          resolve();
        }
      });
    });
    let aborted;
    for (let i = 0; i < 100 && !aborted; i++) {
      await new Promise((r) => setTimeout(r, 50));
      aborted = auditKinds().slice(before).find((e) => e.kind === 'session.aborted' && e.detail.reason === 'client_closed');
    }
    expect(aborted).toBeTruthy();
    const rec = gh.store.ssh.listRecordings(aborted!.sessionId!)[0];
    expect(rec.endReason).toBe('client_closed');
    const lines = readFileSync(path.join(dataDir, rec.file!), 'utf8').trimEnd().split('\n');
    expect(lines.length).toBeGreaterThan(2);
    // Every line is complete JSON (nothing cut in half by the drop).
    for (const l of lines) JSON.parse(l);
    expect(lines.slice(1).map((l) => JSON.parse(l)[2]).join('')).toContain('line-of-output\n');
  });

  it('interactive shell with a PTY through tmux; its recording replays (tmux as the terminal) to the same screen', async () => {
    const tmux = new Tmux();
    let live: string[];
    try {
      tmux.start(`ssh -tt -p ${port} -i ${agentKey.privateFile} ${CLIENT_OPTS.join(' ')} box@127.0.0.1`);
      await waitFor(() => tmux.screen().some((l) => /[#$]$/.test(l)), 'a shell prompt');
      tmux.keys('echo hello-$((6*7)); printf "\\033[1mBOLD\\033[0m \\303\\251t\\303\\251\\n"', 'Enter');
      await waitFor(() => {
        const s = tmux.screen();
        const i = s.findIndex((l) => l === 'hello-42');
        return i >= 0 && s[i + 1] === 'BOLD été' && /[#$]$/.test(s[i + 2] ?? '');
      }, 'the command output');
      live = tmux.screen();
      tmux.resize(100, 30);
      await new Promise((r) => setTimeout(r, 300));
      tmux.keys('exit', 'Enter');
      await waitFor(() => spawnSync('tmux', ['-L', tmux.socket, 'has-session', '-t', 't']).status !== 0, 'ssh to exit');
    } finally {
      tmux.kill();
    }
    const session = gh.store.sessions.list({ limit: 1, connectionName: 'box' }).items[0];
    await waitFor(() => gh.store.ssh.listRecordings(session.id)[0]?.endedAt != null, 'the recording to end');
    const rec = gh.store.ssh.listRecordings(session.id)[0];
    expect(rec).toMatchObject({ kind: 'shell', command: null, exitStatus: 0, endReason: 'completed' });
    const file = path.join(dataDir, rec.file!);
    const events = readFileSync(file, 'utf8').trim().split('\n').slice(1).map((l) => JSON.parse(l) as [number, string, string]);
    expect(events.filter((e) => e[1] === 'r').map((e) => e[2])).toContain('100x30');
    expect(events.filter((e) => e[1] === 'i')).toHaveLength(0);

    // Replay: asciinema writes the recorded output into a fresh 80x24 tmux pane; compare the screens.
    const replay = new Tmux();
    let replayed: string[];
    try {
      replay.start(`asciinema cat ${file}; sleep 60`);
      await waitFor(() => replay.screen().some((l) => l.endsWith('exit')), 'the replay');
      replayed = replay.screen();
    } finally {
      replay.kill();
    }
    const rows = live.length - [...live].reverse().findIndex((l) => l !== '');
    // Every row up to the last prompt is identical; the last prompt row then shows the typed `exit`.
    expect(replayed.slice(0, rows - 1)).toEqual(live.slice(0, rows - 1));
    expect(replayed[rows - 1]).toBe(`${live[rows - 1]} exit`);
  });

  it('scp both ways (sftp mode and legacy -O): same bytes, file operations recorded with path, size and direction', async () => {
    const content = randomBytes(300_000);
    const local = path.join(dir, 'upload.bin');
    writeFileSync(local, content);
    const remote = path.join(dir, 'remote-copy.bin');
    const scp = (args: string[]) => run('scp', ['-P', String(port), '-i', agentKey.privateFile, ...CLIENT_OPTS, ...args]);

    const up = await scp([local, `box@127.0.0.1:${remote}`]);
    expect(up.stderr).toBe('');
    expect(up.code).toBe(0);
    expect(readFileSync(remote).equals(content)).toBe(true);
    let session = gh.store.sessions.list({ limit: 1, connectionName: 'box' }).items[0];
    expect(gh.store.ssh.listRecordings(session.id)[0]).toMatchObject({ kind: 'sftp', file: null });
    await waitFor(() => gh.store.ssh.listFileOps(session.id).length > 0, 'sftp ops');
    expect(gh.store.ssh.listFileOps(session.id)).toEqual(expect.arrayContaining([expect.objectContaining({ op: 'write', path: remote, direction: 'upload', bytes: 300_000 })]));

    const back = path.join(dir, 'downloaded.bin');
    const down = await scp(['-O', `box@127.0.0.1:${remote}`, back]);
    expect(down.code).toBe(0);
    expect(readFileSync(back).equals(content)).toBe(true);
    session = gh.store.sessions.list({ limit: 1, connectionName: 'box' }).items[0];
    await waitFor(() => gh.store.ssh.listFileOps(session.id).length > 0, 'scp op');
    expect(gh.store.ssh.listRecordings(session.id)[0]).toMatchObject({ kind: 'scp', exitStatus: 0 });
    const [op] = gh.store.ssh.listFileOps(session.id);
    expect(op).toMatchObject({ op: 'download', path: remote, direction: 'download' });
    expect(op.bytes).toBeGreaterThanOrEqual(300_000);

    const legacyUp = await scp(['-O', local, `box@127.0.0.1:${remote}.2`]);
    expect(legacyUp.code).toBe(0);
    expect(readFileSync(`${remote}.2`).equals(content)).toBe(true);
    session = gh.store.sessions.list({ limit: 1, connectionName: 'box' }).items[0];
    await waitFor(() => gh.store.ssh.listFileOps(session.id).length > 0, 'scp op');
    expect(gh.store.ssh.listFileOps(session.id)[0]).toMatchObject({ op: 'upload', path: `${remote}.2`, direction: 'upload' });
  });

  it('sftp batch: every file operation recorded in order', async () => {
    const content = randomBytes(150_000);
    const local = path.join(dir, 'sftp-src.bin');
    writeFileSync(local, content);
    const d = path.join(dir, 'sftp-dir');
    const batch = path.join(dir, 'batch.txt');
    const got = path.join(dir, 'sftp-got.bin');
    writeFileSync(batch, [`mkdir ${d}`, `put ${local} ${d}/a.bin`, `rename ${d}/a.bin ${d}/b.bin`, `get ${d}/b.bin ${got}`, `rm ${d}/b.bin`, `rmdir ${d}`, ''].join('\n'));
    const r = await run('sftp', ['-P', String(port), '-i', agentKey.privateFile, ...CLIENT_OPTS, '-b', batch, 'box@127.0.0.1']);
    expect(r.code).toBe(0);
    expect(readFileSync(got).equals(content)).toBe(true);
    const session = gh.store.sessions.list({ limit: 1, connectionName: 'box' }).items[0];
    await waitFor(() => gh.store.ssh.listFileOps(session.id).length >= 6, 'sftp ops');
    const ops = gh.store.ssh.listFileOps(session.id).map((o) => [o.op, o.path, o.target, o.direction, o.bytes]);
    expect(ops).toEqual([
      ['mkdir', d, null, null, 0],
      ['write', `${d}/a.bin`, null, 'upload', 150_000],
      ['rename', `${d}/a.bin`, `${d}/b.bin`, null, 0],
      ['read', `${d}/b.bin`, null, 'download', 150_000],
      ['remove', `${d}/b.bin`, null, null, 0],
      ['rmdir', d, null, null, 0],
    ]);
  });

  it('a recording that cannot be written refuses the channel (fail closed)', async () => {
    const recordings = path.join(dataDir, 'recordings');
    renameSync(recordings, `${recordings}.away`);
    writeFileSync(recordings, 'not a directory');
    try {
      const r = await ssh('box', 'echo should-not-run');
      expect(r.code).toBe(255);
      expect(r.stdout.toString()).toBe('');
      expect(r.stderr).toContain('gatehouse: gatehouse cannot record this channel, so it is refused');
    } finally {
      rmSync(recordings);
      renameSync(`${recordings}.away`, recordings);
    }
    expect(auditKinds().some((e) => e.kind === 'session.aborted' && e.detail.reason === 'recording_failed')).toBe(true);
  });

  it('revoking the grant ends a running ssh session with a message', async () => {
    const pending = ssh('box', 'sleep 20; echo never');
    // This session's channel, not an earlier test's session that is still being closed (slow on a busy machine).
    await waitFor(
      () => gh.store.sessions.list({ limit: 5, connectionName: 'box', activeOnly: true }).items.some((s) => gh.store.ssh.listRecordings(s.id)[0]?.command === 'sleep 20; echo never'),
      'the session',
    );
    await new Promise((r) => setTimeout(r, 300));
    const out = (await gh.api.call('grants.revoke', { agent: 'bot', connection: 'box' }, ACTOR)) as { sessionsClosed: number };
    expect(out.sessionsClosed).toBe(1);
    const r = await pending;
    expect(r.code).toBe(255);
    expect(r.stdout.toString()).toBe('');
    expect(r.stderr).toContain('gatehouse: the grant for this connection was revoked');
    await gh.api.call('grants.add', { agent: 'bot', connection: 'box' }, ACTOR);
  });
  it('policy: exec commands blocked by program and arguments (split like a shell), exit 126, audited', async () => {
    const victim = path.join(dir, 'victim');
    await gh.api.call(
      'policy.apply',
      { yaml: ['version: 1', 'ssh:', '  - name: no-recursive-rm', '    match: { programs: [rm], args: [-r, --recursive] }', '    action: block', '    message: recursive deletes are not for agents', ''].join('\n') },
      ACTOR,
    );
    try {
      for (const cmd of [`mkdir -p ${victim}/a && rm -rf ${victim}`, `sudo -u root rm -fr ${victim}`, `true; /bin/rm --recursive ${victim}`, `sh -c 'rm -r ${victim}'`, `X=$(rm -r ${victim})`]) {
        writeFileSync(victim, 'keep');
        const r = await ssh('box', cmd);
        expect(r.code, cmd).toBe(126);
        expect(r.stdout.toString()).toBe('');
        expect(r.stderr, cmd).toMatch(/^gatehouse: blocked/);
        expect(readFileSync(victim, 'utf8')).toBe('keep');
      }
      const named = await ssh('box', `rm -rf ${victim}`);
      expect(named.stderr).toBe(`gatehouse: blocked by policy rule "no-recursive-rm": recursive deletes are not for agents (rm -rf ${victim})\r\n`);
      const subst = await ssh('box', `echo $(rm -r ${victim})`);
      expect(subst.stderr).toContain('gatehouse cannot check this command because it uses command substitution');
      // Not a substring match: the words "rm -rf" as an argument of echo run fine.
      const harmless = await ssh('box', 'echo rm -rf /; rm -f /nonexistent-file-x');
      expect(harmless.code).toBe(0);
      expect(harmless.stdout.toString()).toBe('rm -rf /\n');
      const blocked = auditKinds().filter((e) => e.kind === 'command.blocked');
      expect(blocked.length).toBeGreaterThanOrEqual(6);
      expect(blocked.at(-1)!.detail).toMatchObject({ rule: null, command: `echo $(rm -r ${victim})` });
      const session = gh.store.sessions.list({ limit: 20, connectionName: 'box' }).items.find((s) => gh.store.ssh.listRecordings(s.id)[0]?.command === `echo $(rm -r ${victim})`);
      expect(gh.store.ssh.listRecordings(session!.id)[0]).toMatchObject({ endReason: 'policy_blocked', exitStatus: 126 });
    } finally {
      await gh.api.call('policy.apply', { yaml: 'version: 1\n' }, ACTOR);
    }
  });

  it('policy: commands and shells held for approval: approve runs it, deny and timeout refuse it', async () => {
    await gh.api.call(
      'policy.apply',
      {
        yaml: [
          'version: 1',
          'ssh:',
          '  - name: touch-needs-ok',
          '    match: { programs: [touch] }',
          '    action: approve',
          '    timeout: 20s',
          '  - name: mkdir-quick',
          '    match: { programs: [mkdir] }',
          '    action: approve',
          '    timeout: 1s',
          '  - name: shells-need-ok',
          '    match: { shell: true }',
          '    action: approve',
          '',
        ].join('\n'),
      },
      ACTOR,
    );
    const requested: string[] = [];
    const off = gh.events.on('approval.requested', (a) => requested.push(a.id));
    try {
      const file = path.join(dir, 'approved-file');
      const pending = ssh('box', `touch ${file} && echo done`);
      await waitFor(() => requested.length === 1, 'the approval request');
      expect(existsSync(file)).toBe(false);
      await gh.api.call('approvals.decide', { id: requested[0], decision: 'approve' }, ACTOR);
      const ok = await pending;
      expect(ok.code).toBe(0);
      expect(ok.stdout.toString()).toBe('done\n');
      expect(ok.stderr).toContain(`held for approval by policy rule "touch-needs-ok"`);
      expect(ok.stderr).toContain(`waiting for approval (request ${requested[0]})`);
      expect(ok.stderr).toContain('approved by test');
      expect(existsSync(file)).toBe(true);

      const denied = ssh('box', `touch ${file}-2`);
      await waitFor(() => requested.length === 2, 'the second request');
      await gh.api.call('approvals.decide', { id: requested[1], decision: 'deny', reason: 'not now' }, ACTOR);
      const no = await denied;
      expect(no.code).toBe(126);
      expect(no.stderr).toContain('gatehouse: denied by test: not now');
      expect(existsSync(`${file}-2`)).toBe(false);

      const late = await ssh('box', `mkdir ${dir}/never-made`);
      expect(late.code).toBe(126);
      expect(late.stderr).toContain('gatehouse: no decision in time, so it is denied');
      expect(existsSync(`${dir}/never-made`)).toBe(false);

      const shell = ssh('box', null, { extra: ['-tt'], input: 'echo inside\nexit\n' });
      await waitFor(() => requested.length === 4, 'the shell request');
      await gh.api.call('approvals.decide', { id: requested[3], decision: 'deny' }, ACTOR);
      const sh = await shell;
      expect(sh.code).toBe(126);
      expect(sh.stderr).toContain('gatehouse: denied by test');
      expect(sh.stdout.toString() + sh.stderr).not.toContain('inside');
      const kinds = auditKinds().map((e) => e.kind);
      expect(kinds).toEqual(expect.arrayContaining(['approval.requested', 'approval.approved', 'approval.denied', 'approval.timed_out']));
    } finally {
      off.dispose();
      await gh.api.call('policy.apply', { yaml: 'version: 1\n' }, ACTOR);
    }
  });
});

describe('gatehouse CLI with an SSH connection', () => {
  let sshd: TestSshd;
  let dir: string;
  let serve: ServeProcess;

  beforeAll(async () => {
    buildCli();
    dir = mkdtempSync(path.join(os.tmpdir(), 'gh-ssh-cli-'));
    sshd = await new TestSshd().start();
  }, 60_000);

  afterAll(async () => {
    await serve?.stop();
    await sshd?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('serve prints the SSH listener and host key; connection add --kind ssh, agent add --ssh-key, then plain ssh works', async () => {
    const dataDir = path.join(dir, 'data');
    serve = await startServe(dataDir);
    const out = serve.output();
    const sshPort = Number(/ssh\s+127\.0\.0\.1:(\d+)/.exec(out)![1]);
    const fingerprint = /ssh host key (SHA256:\S+)/.exec(out)![1];
    const key = makeKeyPair(dir, 'cli_agent');

    const conn = await gatehouse(['connection', 'add', 'web', '--kind', 'ssh', '--host', '127.0.0.1', '--port', String(sshd.port), '--user', sshd.user, '--private-key-file', sshd.userKey.privateFile, '--data-dir', dataDir]);
    expect(conn.stderr).toBe('');
    expect(conn.stdout).toBe(`connection "web" added (ssh ${sshd.user}@127.0.0.1:${sshd.port}, credential stored encrypted)\n`);
    const wrongKey = await gatehouse(['agent', 'add', 'cli-bot', '--ssh-key', key.privateFile, '--data-dir', dataDir]);
    expect(wrongKey.code).toBe(1);
    expect(wrongKey.stderr).toContain('this is a private key; give the public key (the .pub file)');
    const agent = await gatehouse(['agent', 'add', 'cli-bot', '--ssh-key', key.publicFile, '--data-dir', dataDir]);
    expect(agent.code).toBe(0);
    expect((await gatehouse(['grant', 'add', '--agent', 'cli-bot', '--connection', 'web', '--data-dir', dataDir])).code).toBe(0);
    const listed = JSON.parse((await gatehouse(['connection', 'list', '--json', '--data-dir', dataDir])).stdout);
    expect(listed[0]).toMatchObject({ name: 'web', kind: 'ssh', hasSecret: true });
    expect(JSON.stringify(listed)).not.toContain('PRIVATE');

    const knownHosts = path.join(dir, 'known_hosts');
    const r = await run('ssh', ['-p', String(sshPort), '-i', key.privateFile, '-o', `UserKnownHostsFile=${knownHosts}`, '-o', 'StrictHostKeyChecking=accept-new', '-o', 'BatchMode=yes', '-o', 'LogLevel=ERROR', '-o', 'IdentitiesOnly=yes', 'web@127.0.0.1', 'echo through-serve']);
    expect(r.stderr).toBe('');
    expect(r.stdout.toString()).toBe('through-serve\n');
    // The key the client saw (and pinned) is the one serve printed.
    expect(spawnSync('ssh-keygen', ['-lf', knownHosts], { encoding: 'utf8' }).stdout).toContain(fingerprint);
    const sessions = JSON.parse((await gatehouse(['sessions', 'list', '--json', '--data-dir', dataDir])).stdout);
    expect(sessions.items?.[0] ?? sessions[0]).toMatchObject({ protocol: 'ssh', agentName: 'cli-bot', connectionName: 'web' });
  });
});
