#!/usr/bin/env node
// SSH gateway benchmark: throughput of `ssh HOST 'head -c 500M /dev/zero' > /dev/null` and of scp of a
// 200 MB file (upload and download), direct to OpenSSH vs through Gatehouse, in one run, interleaved; and
// the median round trip of one keystroke echoed by `cat` in a PTY (an ssh2 client typing one byte at a
// time), direct vs Gatehouse, then with an output masking policy applied (echo and stream again).
// `--write-docs` puts the table into docs/benchmarks.md (its own section).
//
// Env: BENCH_SSH_MB (default 500), BENCH_SCP_MB (200), BENCH_ROUNDS (3), BENCH_ECHOES (300).
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ssh2 from 'ssh2';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const writeDocs = process.argv.includes('--write-docs');
const docsFile = path.join(root, 'docs/benchmarks.md');
const STREAM_MB = positiveInt(process.env.BENCH_SSH_MB, 500);
const SCP_MB = positiveInt(process.env.BENCH_SCP_MB, 200);
const ROUNDS = positiveInt(process.env.BENCH_ROUNDS, 3);
const ECHOES = positiveInt(process.env.BENCH_ECHOES, 300);
const MARK_START = '<!-- bench:ssh:start -->';
const MARK_END = '<!-- bench:ssh:end -->';

function positiveInt(text, fallback) {
  if (text === undefined || text === '') return fallback;
  const n = Number(text);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`expected a positive integer, got "${text}"`);
  return n;
}

// ---- processes and temp dirs, all stopped/removed on every way out -----------------------------------

const cleanups = [];
let cleaned = false;
function cleanup() {
  if (cleaned) return;
  cleaned = true;
  for (const step of cleanups.splice(0).reverse()) {
    try {
      step();
    } catch {
      // keep cleaning
    }
  }
}
process.on('exit', cleanup);
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(sig, () => {
    cleanup();
    process.exit(130);
  });
}

function tempDir(prefix) {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function stopChild(child) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const t = setTimeout(() => child.kill('SIGKILL'), 5000);
  t.unref();
}

function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

function keygen(dir, name) {
  const file = path.join(dir, name);
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', file]);
  return { file, pub: `${file}.pub` };
}

// ---- the two doors -----------------------------------------------------------------------------------

async function startSshd(dir, userKey) {
  if (process.getuid?.() === 0) mkdirSync('/run/sshd', { recursive: true });
  const port = await freePort();
  const host = keygen(dir, 'host_key');
  writeFileSync(path.join(dir, 'authorized_keys'), readFileSync(userKey.pub));
  const config = path.join(dir, 'sshd_config');
  writeFileSync(
    config,
    [
      `Port ${port}`,
      'ListenAddress 127.0.0.1',
      `HostKey ${host.file}`,
      `AuthorizedKeysFile ${path.join(dir, 'authorized_keys')}`,
      `PidFile ${path.join(dir, 'sshd.pid')}`,
      'PasswordAuthentication no',
      'PermitRootLogin prohibit-password',
      'UsePAM no',
      'StrictModes no',
      'PrintMotd no',
      'Subsystem sftp internal-sftp',
      '',
    ].join('\n'),
  );
  const child = spawn('/usr/sbin/sshd', ['-D', '-e', '-f', config], { stdio: ['ignore', 'ignore', 'pipe'] });
  cleanups.push(() => stopChild(child));
  let log = '';
  await new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`sshd did not start: ${log}`)), 10_000);
    child.stderr.on('data', (d) => {
      log += d;
      if (/Server listening/.test(log)) {
        clearTimeout(t);
        resolve();
      }
    });
    child.once('exit', (code) => reject(new Error(`sshd exited (${code}): ${log}`)));
  });
  return { port, user: os.userInfo().username };
}

async function startGatehouse(dir, sshd, upstreamKey, agentKey) {
  execFileSync(process.execPath, [path.join(root, 'scripts/build-cli.mjs')], { stdio: ['ignore', 'ignore', 'pipe'] });
  const cli = path.join(root, 'bin/gatehouse.mjs');
  const dataDir = path.join(dir, 'gatehouse-data');
  const gh = (args) => execFileSync(process.execPath, [cli, ...args, '--data-dir', dataDir], { stdio: ['ignore', 'pipe', 'pipe'] }).toString();
  const version = gh(['--version']).trim();
  const child = spawn(process.execPath, [cli, 'serve', '--data-dir', dataDir, '--pg-port', '0', '--console-port', '0', '--ssh-port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  cleanups.push(() => stopChild(child));
  const port = await new Promise((resolve, reject) => {
    let out = '';
    const t = setTimeout(() => reject(new Error('gatehouse serve printed no ssh port in 30 s')), 30_000);
    child.stdout.on('data', (d) => {
      out += d;
      const m = /ssh\s+\S+:(\d+)/.exec(out);
      if (m) {
        clearTimeout(t);
        resolve(Number(m[1]));
      }
    });
    child.once('exit', (code) => reject(new Error(`gatehouse serve exited (${code})`)));
  });
  gh(['connection', 'add', 'bench', '--kind', 'ssh', '--host', '127.0.0.1', '--port', String(sshd.port), '--user', sshd.user, '--private-key-file', upstreamKey.file]);
  gh(['agent', 'add', 'bench-agent', '--ssh-key', agentKey.pub]);
  gh(['grant', 'add', '--agent', 'bench-agent', '--connection', 'bench']);
  return { port, user: 'bench', version, dataDir, gh };
}

/** Apply a policy that masks emails, cards and tokens in the bench connection's output (the detectors run on every line). */
function applyMaskingPolicy(dir, gatehouse) {
  const file = path.join(dir, 'masking-policy.yaml');
  writeFileSync(file, ['version: 1', 'masking:', '  - name: bench-pii', '    detectors: [email, payment_card, api_token, ipv4]', '    strategy: redact', ''].join('\n'));
  gatehouse.gh(['policy', 'apply', file]);
}

// ---- measurements -----------------------------------------------------------------------------------

const CLIENT_OPTS = ['-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-o', 'BatchMode=yes', '-o', 'LogLevel=ERROR', '-o', 'IdentitiesOnly=yes'];

/** Run a command, wait for it, return seconds taken; throws with its stderr on failure. */
function timed(cmd, args) {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d) => (err += d));
    child.on('close', (code) => {
      const s = Number(process.hrtime.bigint() - t0) / 1e9;
      if (code === 0) resolve(s);
      else reject(new Error(`${cmd} exited ${code}: ${err.trim().split('\n').pop()}`));
    });
  });
}

/** MB/s once the setup time is taken out; NaN when the transfer was too short for that to mean anything. */
const netRate = (mb, total, setup) => (total > setup * 1.5 ? mb / (total - setup) : Number.NaN);
const fmt = (x, unit = ' MB/s') => (Number.isFinite(x) ? `${x.toFixed(0)}${unit}` : 'n/a');

/**
 * Run ssh printing to a pipe read here and discarded; returns the seconds from start to end and from the
 * first output byte to the end (the transfer alone, without connection setup and login).
 */
function timedStream(args) {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    let first = 0n;
    const child = spawn('ssh', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    child.stdout.on('data', () => {
      if (first === 0n) first = process.hrtime.bigint();
    });
    child.stderr.on('data', (d) => (err += d));
    child.on('close', (code) => {
      const end = process.hrtime.bigint();
      if (code !== 0) return reject(new Error(`ssh exited ${code}: ${err.trim().split('\n').pop()}`));
      resolve({ total: Number(end - t0) / 1e9, transfer: Number(end - (first || t0)) / 1e9 });
    });
  });
}

const median = (xs) => {
  const s = xs.filter(Number.isFinite).sort((a, b) => a - b);
  if (s.length === 0) return Number.NaN;
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/** Median ms from writing one byte to a `cat` in a PTY until its echo (pty echo + cat output) arrives. */
function echoLatency(door, key) {
  return new Promise((resolve, reject) => {
    const c = new ssh2.Client();
    c.on('error', reject);
    c.on('ready', () => {
      c.exec('stty -icanon; cat', { pty: { rows: 24, cols: 80, term: 'xterm' } }, (err, stream) => {
        if (err) return reject(err);
        const samples = [];
        let expect = 0;
        let t0 = 0n;
        let got = '';
        const next = () => {
          if (samples.length >= ECHOES) {
            stream.close();
            c.end();
            // First 20 are warm-up.
            return resolve(median(samples.slice(20)));
          }
          got = '';
          expect = 2; // the terminal's echo and cat's copy
          t0 = process.hrtime.bigint();
          stream.write('x');
        };
        stream.on('data', (d) => {
          if (expect === 0) return;
          got += d.toString('latin1').replace(/[^x]/g, '');
          if (got.length >= expect) {
            samples.push(Number(process.hrtime.bigint() - t0) / 1e6);
            expect = 0;
            setTimeout(next, 2);
          }
        });
        setTimeout(next, 300);
      });
    });
    c.connect({ host: '127.0.0.1', port: door.port, username: door.user, privateKey: readFileSync(key.file), hostVerifier: () => true });
  });
}

function machine() {
  const cpu = (os.cpus()[0]?.model ?? 'unknown CPU').trim();
  const cores = os.availableParallelism?.() ?? os.cpus().length;
  return `${cores} cores (nproc), ${cpu}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, ${os.type()} ${os.release()}`;
}

function writeTableToDocs(text) {
  const block = `${MARK_START}\n${text}\n${MARK_END}`;
  const section = `## SSH gateway: \`npm run bench:ssh\`

\`ssh HOST 'head -c ${STREAM_MB}M /dev/zero'\` (output read by the script and discarded) and scp of a ${SCP_MB} MB file (upload and download, scp's
default SFTP mode), **direct** to OpenSSH's sshd vs through **Gatehouse** (agent key login, grant check,
upstream login with the stored key, recording on: exec output goes to the channel's asciicast file up to
its 16 MiB cap, sftp operations are parsed and indexed). Same machine, TCP on 127.0.0.1, runs
interleaved, median of the rounds. "Setup excluded": the stream timed from its first byte; scp minus the
median \`ssh HOST true\` of the round (n/a when setup noise swamps the transfer). On a shared 2-core
machine the gateway is a third busy process next to sshd and ssh, so load from other work hits it hardest. Echo: an ssh2 client types one byte at a time into \`cat\` in a PTY and
waits for both echoes (the terminal's and cat's); median round trip. Then a policy masking emails, cards, tokens and IPv4
addresses in the output is applied, and the echo and the stream are measured again (plus text the
detectors have to read: base64 lines with no values in them).

Run: \`npm run bench:ssh\` (prints the table) or \`npm run bench:ssh -- --write-docs\` (updates this section).
Env: BENCH_SSH_MB, BENCH_SCP_MB, BENCH_ROUNDS, BENCH_ECHOES.

Targets (issue 5): at least 0.6x direct throughput; under 2 ms added echo latency at the median.

`;
  if (!existsSync(docsFile)) {
    writeFileSync(docsFile, `# Benchmarks\n\n${section}${block}\n`);
    return;
  }
  const doc = readFileSync(docsFile, 'utf8');
  const i = doc.indexOf(MARK_START);
  const j = doc.indexOf(MARK_END);
  if (i < 0 || j < i) writeFileSync(docsFile, `${doc.trimEnd()}\n\n${section}${block}\n`);
  else writeFileSync(docsFile, doc.slice(0, i) + block + doc.slice(j + MARK_END.length));
}

async function main() {
  const started = new Date();
  const load0 = os.loadavg()[0];
  const dir = tempDir('gh-bench-ssh-');
  const upstreamKey = keygen(dir, 'upstream_key');
  const agentKey = keygen(dir, 'agent_key');
  const sshd = await startSshd(dir, upstreamKey);
  const gatehouse = await startGatehouse(dir, sshd, upstreamKey, agentKey);
  const doors = {
    direct: { port: sshd.port, user: sshd.user, key: upstreamKey },
    gatehouse: { port: gatehouse.port, user: gatehouse.user, key: agentKey },
  };
  const payload = path.join(dir, 'payload.bin');
  execFileSync('sh', ['-c', `head -c ${SCP_MB}M /dev/urandom > ${payload}`]);
  const remoteDir = path.join(dir, 'remote');
  mkdirSync(remoteDir);

  const results = { stream: { direct: [], gatehouse: [] }, scpUp: { direct: [], gatehouse: [] }, scpDown: { direct: [], gatehouse: [] } };
  // Same transfers with the connection setup (TCP, key exchange, login; through Gatehouse also the upstream
  // login) taken out: for the stream, timed from its first output byte; for scp, the median time of
  // `ssh HOST true` in the same round is subtracted (n/a when that leaves too little to mean anything).
  const net = { stream: { direct: [], gatehouse: [] }, scpUp: { direct: [], gatehouse: [] }, scpDown: { direct: [], gatehouse: [] } };
  const setups = { direct: [], gatehouse: [] };
  for (let round = 1; round <= ROUNDS; round++) {
    for (const [name, d] of Object.entries(doors)) {
      const base = ['-i', d.key.file, ...CLIENT_OPTS];
      const setupRuns = [];
      for (let k = 0; k < 3; k++) setupRuns.push(await timed('ssh', ['-p', String(d.port), ...base, `${d.user}@127.0.0.1`, 'true']));
      const setup = median(setupRuns);
      setups[name].push(setup);
      const st = await timedStream(['-p', String(d.port), ...base, `${d.user}@127.0.0.1`, `head -c ${STREAM_MB}M /dev/zero`]);
      const s = st.total;
      results.stream[name].push(STREAM_MB / s);
      net.stream[name].push(STREAM_MB / st.transfer);
      const remote = path.join(remoteDir, `${name}.bin`);
      const up = await timed('scp', ['-P', String(d.port), ...base, payload, `${d.user}@127.0.0.1:${remote}`]);
      if (statSync(remote).size !== SCP_MB * 2 ** 20) throw new Error(`scp through ${name} wrote ${statSync(remote).size} bytes`);
      results.scpUp[name].push(SCP_MB / up);
      net.scpUp[name].push(netRate(SCP_MB, up, setup));
      const back = path.join(dir, `${name}.back`);
      const down = await timed('scp', ['-P', String(d.port), ...base, `${d.user}@127.0.0.1:${remote}`, back]);
      results.scpDown[name].push(SCP_MB / down);
      net.scpDown[name].push(netRate(SCP_MB, down, setup));
      rmSync(back);
      rmSync(remote);
      process.stderr.write(`round ${round} ${name}: setup ${(setup * 1000).toFixed(0)} ms, stream ${(STREAM_MB / s).toFixed(0)} MB/s, scp up ${(SCP_MB / up).toFixed(0)} MB/s, down ${(SCP_MB / down).toFixed(0)} MB/s\n`);
    }
  }
  const echo = {};
  for (const [name, d] of Object.entries(doors)) echo[name] = await echoLatency(d, d.key);

  // Output masking on (value detectors on the terminal stream): echo latency and the stream again.
  applyMaskingPolicy(dir, gatehouse);
  const g = doors.gatehouse;
  echo.masked = await echoLatency(g, g.key);
  const maskedStream = [];
  const maskedText = [];
  for (let round = 1; round <= ROUNDS; round++) {
    const base = ['-p', String(g.port), '-i', g.key.file, ...CLIENT_OPTS, `${g.user}@127.0.0.1`];
    maskedStream.push(STREAM_MB / (await timedStream([...base, `head -c ${STREAM_MB}M /dev/zero`])).transfer);
    // Text the detectors have to look at: base64 lines (token-like runs) with no value in them.
    const textMb = Math.max(1, Math.round(STREAM_MB / 5));
    maskedText.push(textMb / (await timedStream([...base, `head -c ${Math.round((textMb * 3) / 4)}M /dev/zero | base64`])).transfer);
    process.stderr.write(`masking round ${round}: stream ${fmt(maskedStream.at(-1))}, base64 text ${fmt(maskedText.at(-1))}\n`);
  }

  const rows = [
    [`ssh 'head -c ${STREAM_MB}M /dev/zero'`, 'stream'],
    [`scp upload ${SCP_MB} MB`, 'scpUp'],
    [`scp download ${SCP_MB} MB`, 'scpDown'],
  ].map(([what, key]) => {
    const d = median(results[key].direct);
    const g = median(results[key].gatehouse);
    const dn = median(net[key].direct);
    const gn = median(net[key].gatehouse);
    const ratio = gn / dn;
    return `| ${what} | ${fmt(d)} | ${fmt(g)} | ${(g / d).toFixed(2)}x | ${fmt(dn)} | ${fmt(gn)} | ${Number.isFinite(ratio) ? ratio.toFixed(2) + 'x' : 'n/a'} |`;
  });
  const sd = median(setups.direct) * 1000;
  const sg = median(setups.gatehouse) * 1000;
  const added = echo.gatehouse - echo.direct;
  const addedMasked = echo.masked - echo.direct;
  const text = [
    `Machine: ${machine()}. Run ${started.toISOString().slice(0, 16).replace('T', ' ')} UTC, load average ${load0.toFixed(2)} before and ${os.loadavg()[0].toFixed(2)} after. ${gatehouse.version}, ${spawnSync('ssh', ['-V'], { encoding: 'utf8' }).stderr.trim()}, ${ROUNDS} rounds.`,
    '',
    '| transfer | direct | gatehouse | gatehouse/direct | direct, setup excluded | gatehouse, setup excluded | gatehouse/direct, setup excluded |',
    '|---|---:|---:|---:|---:|---:|---:|',
    ...rows,
    '',
    `Connection setup (\`ssh HOST true\`, median): direct ${sd.toFixed(0)} ms, gatehouse ${sg.toFixed(0)} ms.`,
    '',
    '| keystroke echo (median of ' + (ECHOES - 20) + ') | direct | gatehouse | added |',
    '|---|---:|---:|---:|',
    `| 1 byte into \`cat\` in a PTY, both echoes back | ${echo.direct.toFixed(3)} ms | ${echo.gatehouse.toFixed(3)} ms | +${added.toFixed(3)} ms |`,
    `| same, output masking on (email, payment_card, api_token, ipv4) | ${echo.direct.toFixed(3)} ms | ${echo.masked.toFixed(3)} ms | +${addedMasked.toFixed(3)} ms |`,
    '',
    `With output masking on, setup excluded (median of ${ROUNDS}): \`head -c ${STREAM_MB}M /dev/zero\` ${fmt(median(maskedStream))} (masking off: ${fmt(median(net.stream.gatehouse))}); base64 of zeros as text (76-character lines without values; every line profiled, token runs checked) ${fmt(median(maskedText))}.`,
  ].join('\n');
  process.stdout.write(`${text}\n`);
  if (writeDocs) {
    writeTableToDocs(text);
    process.stdout.write(`\nwritten to ${path.relative(root, docsFile)}\n`);
  }
}

main()
  .then(() => {
    cleanup();
    process.exit(0);
  })
  .catch((err) => {
    process.stderr.write(`bench:ssh failed: ${err.message}\n`);
    cleanup();
    process.exit(1);
  });
