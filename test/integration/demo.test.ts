import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { buildCli } from '../helpers/cli';
import { runTool } from '../helpers/pg-gateway-harness';

/** `gatehouse demo` as a newcomer runs it: start, paste the printed psql command, Ctrl-C. */
const bin = path.resolve(__dirname, '../../bin/gatehouse.mjs');
let child: ChildProcess | null = null;

beforeAll(() => buildCli());
afterEach(async () => {
  // A failed assertion must not leave the demo (and its PostgreSQL) running.
  if (child && child.exitCode === null && child.signalCode === null) {
    await new Promise((resolve) => {
      child!.once('exit', resolve);
      child!.kill('SIGINT');
    });
  }
  child = null;
});

/** Start the demo and wait until it printed the psql line and how to stop it. */
async function startDemo(): Promise<{ out: () => string; err: () => string }> {
  const c = spawn(process.execPath, [bin, 'demo', '--pg-port', '0', '--console-port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  child = c;
  let out = '';
  let err = '';
  c.stdout!.on('data', (d) => (out += d));
  c.stderr!.on('data', (d) => (err += d));
  await new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`demo did not print a psql command in 90 s:\n${out}\n${err}`)), 90_000);
    const onData = () => {
      if (/psql "[^"]+"/.test(out) && out.includes('Ctrl-C to stop')) {
        clearTimeout(t);
        c.stdout!.off('data', onData);
        c.off('exit', onExit);
        resolve();
      }
    };
    const onExit = (code: number | null) => {
      clearTimeout(t);
      reject(new Error(`demo exited early (${code}):\n${out}\n${err}`));
    };
    c.stdout!.on('data', onData);
    c.on('exit', onExit);
  });
  return { out: () => out, err: () => err };
}

/** Luhn check, written here independently of the generator. */
function luhnValid(number: string): boolean {
  let sum = 0;
  [...number].reverse().forEach((ch, i) => {
    let d = Number(ch);
    if (i % 2 === 1) d = d * 2 > 9 ? d * 2 - 9 : d * 2;
    sum += d;
  });
  return sum % 10 === 0;
}

function portAccepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1', () => {
      s.destroy();
      resolve(true);
    });
    s.on('error', () => resolve(false));
  });
}

/** Processes whose command line mentions `needle` (Linux /proc). */
function processesMentioning(needle: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(needle)) pids.push(Number(entry));
    } catch {
      // exited meanwhile
    }
  }
  return pids;
}

describe('gatehouse demo', () => {
  it('starts PostgreSQL with sample data behind the gateway, prints a psql command that works, and cleans up on Ctrl-C', async () => {
    const demo = await startDemo();
    const out = demo.out();
    const psqlLine = /psql "([^"]+)"/.exec(out)![1];
    expect(psqlLine).toMatch(/^host=127\.0\.0\.1 port=\d+ dbname=shop user=demo-agent password=\S+ sslmode=prefer$/);
    const [, pgPort, pgDir] = /PostgreSQL with sample data\s+127\.0\.0\.1:(\d+), database shop, files in (\S+)/.exec(out)!;
    const dataDir = /data dir (\S+)/.exec(out)!;
    expect(existsSync(pgDir)).toBe(true);
    expect(existsSync(dataDir[1])).toBe(true);
    expect(out).toMatch(/Console: http:\/\/127\.0\.0\.1:\d+/);
    expect(out).toMatch(/admin token: \S+/);

    const psql = (sql: string) => runTool('psql', [psqlLine, '-X', '-At', '-c', sql]);
    const count = await psql('select count(*) from customers');
    expect(count.stderr).toBe('');
    expect(count.stdout.trim()).toBe('200');
    expect((await psql('select count(*) from orders')).stdout.trim()).toBe('1000');
    expect((await psql('select count(*) from orders o left join customers c on c.id = o.customer_id where c.id is null')).stdout.trim()).toBe('0');
    const people = (await psql("select full_name || '|' || email || '|' || phone || '|' || card_number from customers")).stdout.trim().split('\n');
    expect(people).toHaveLength(200);
    for (const row of people) {
      const [name, email, phone, card] = row.split('|');
      expect(name).toMatch(/^\S+( \S+)+$/);
      expect(email).toMatch(/^[a-z.-]+\d*@example\.(com|org|net)$/);
      expect(phone).toMatch(/^\+1-555-\d{3}-\d{4}$/);
      expect(card).toMatch(/^\d{16}$/);
      expect(luhnValid(card), card).toBe(true);
    }
    // The agent's secret is not the database password: logging into PostgreSQL directly with it fails.
    const direct = await runTool('psql', [psqlLine.replace(/port=\d+/, `port=${pgPort}`).replace('user=demo-agent', 'user=shop_owner'), '-X', '-At', '-c', 'select 1']);
    expect(direct.code).not.toBe(0);

    const c = child!;
    const code = await new Promise<number | null>((resolve) => {
      c.once('exit', (exitCode) => resolve(exitCode));
      c.kill('SIGINT');
    });
    expect(code).toBe(0);
    expect(demo.out()).toContain('Demo stopped; temporary data removed.');
    expect(existsSync(dataDir[1])).toBe(false);
    expect(existsSync(pgDir)).toBe(false);
    expect(await portAccepts(Number(pgPort))).toBe(false);
    expect(processesMentioning(pgDir)).toEqual([]);
  });
});
