import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';

/** Where Debian's OpenSSH server lives (sshd must be started with an absolute path). */
export const SSHD = '/usr/sbin/sshd';

/** A key pair made with ssh-keygen: the private key file (OpenSSH format) and the public key line. */
export interface KeyPair {
  privateFile: string;
  publicFile: string;
  privateKey: string;
  publicKey: string;
}

/** Make an ed25519 (default) key pair without a passphrase in `dir`. */
export function makeKeyPair(dir: string, name: string, type: 'ed25519' | 'rsa' | 'ecdsa' = 'ed25519'): KeyPair {
  const privateFile = path.join(dir, name);
  execFileSync('ssh-keygen', ['-q', '-t', type, '-N', '', '-C', `${name}@gatehouse-test`, '-f', privateFile]);
  return {
    privateFile,
    publicFile: `${privateFile}.pub`,
    privateKey: readFileSync(privateFile, 'utf8'),
    publicKey: readFileSync(`${privateFile}.pub`, 'utf8').trim(),
  };
}

/** A free TCP port on 127.0.0.1 (bound and released; the caller binds it right after). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/**
 * A real OpenSSH server for tests: temporary host key, one authorized user key, loopback only, random
 * port, run in the foreground (-D -e) by the current user. As root (CI and this machine) the login
 * user is root with key-only login (PermitRootLogin prohibit-password); otherwise the current user.
 * `opts.user` (root only) logs in as another, non-root account instead, e.g. `postgres`: sshd then keeps
 * privilege separation for the session (which OpenSSH needs to deliver "signal" requests), reads the
 * key file as that user (so it is made readable) and uses PAM, which accepts a system account whose
 * password is locked.
 */
export class TestSshd {
  readonly dir = mkdtempSync(path.join(os.tmpdir(), 'gh-sshd-'));
  readonly user: string;
  readonly userKey: KeyPair;
  readonly hostKey: KeyPair;
  port = 0;
  private child: ChildProcess | null = null;
  private log = '';

  constructor(opts: { user?: string } = {}) {
    this.user = opts.user ?? os.userInfo().username;
    this.hostKey = makeKeyPair(this.dir, 'ssh_host_ed25519_key');
    this.userKey = makeKeyPair(this.dir, 'user_key');
    const otherUser = this.user !== os.userInfo().username;
    writeFileSync(path.join(this.dir, 'authorized_keys'), `${this.userKey.publicKey}\n`, { mode: otherUser ? 0o644 : 0o600 });
    if (otherUser) chmodSync(this.dir, 0o755);
  }

  /** Start sshd and wait until it accepts connections. `extra` lines are appended to sshd_config. */
  async start(extra: string[] = []): Promise<this> {
    if (process.getuid?.() === 0) mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
    this.port = await freePort();
    const config = path.join(this.dir, 'sshd_config');
    writeFileSync(
      config,
      [
        `Port ${this.port}`,
        'ListenAddress 127.0.0.1',
        `HostKey ${this.hostKey.privateFile}`,
        `AuthorizedKeysFile ${path.join(this.dir, 'authorized_keys')}`,
        `PidFile ${path.join(this.dir, 'sshd.pid')}`,
        'PasswordAuthentication no',
        'KbdInteractiveAuthentication no',
        'PubkeyAuthentication yes',
        'PermitRootLogin prohibit-password',
        `UsePAM ${this.user === os.userInfo().username ? 'no' : 'yes'}`,
        'StrictModes no',
        'PrintMotd no',
        'PrintLastLog no',
        'AcceptEnv LANG LC_*',
        'Subsystem sftp internal-sftp',
        ...extra,
        '',
      ].join('\n'),
    );
    const child = spawn(SSHD, ['-D', '-e', '-f', config], { stdio: ['ignore', 'ignore', 'pipe'] });
    this.child = child;
    child.stderr!.on('data', (d) => (this.log += d));
    const deadline = Date.now() + 10_000;
    while (!/Server listening/.test(this.log)) {
      if (child.exitCode !== null) throw new Error(`sshd exited with ${child.exitCode}: ${this.log}`);
      if (Date.now() > deadline) throw new Error(`sshd did not start: ${this.log}`);
      await new Promise((r) => setTimeout(r, 25));
    }
    return this;
  }

  /** What sshd wrote to stderr so far (for failure messages). */
  output(): string {
    return this.log;
  }

  /** Stop sshd (SIGTERM, then SIGKILL) and remove its directory. */
  async stop(): Promise<void> {
    const child = this.child;
    this.child = null;
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}
