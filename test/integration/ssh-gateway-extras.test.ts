import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/gateway/core/logger';
import { startGatehouse, type Gatehouse } from '../../src/gateway/gatehouse';
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

  it('sftp/scp file contents are not masked (binary transfers)', async () => {
    const remote = path.join(dir, 'contacts.txt');
    writeFileSync(remote, 'alice@example.com 4111 1111 1111 1111\n');
    const local = path.join(dir, 'contacts-copy.txt');
    const r = await run('scp', ['-P', String(port), '-i', agentKey.privateFile, ...CLIENT_OPTS, `box@127.0.0.1:${remote}`, local]);
    expect(r.code).toBe(0);
    expect(readFileSync(local, 'utf8')).toBe('alice@example.com 4111 1111 1111 1111\n');
  });
});
