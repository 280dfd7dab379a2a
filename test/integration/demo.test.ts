import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildCli } from '../helpers/cli';
import { runTool } from '../helpers/pg-gateway-harness';

/** `gatehouse demo` as a newcomer runs it: start, paste the printed psql command, Ctrl-C. */
beforeAll(() => buildCli());

describe('gatehouse demo', () => {
  it('starts PostgreSQL with sample data behind the gateway, prints a psql command that works, and cleans up on Ctrl-C', async () => {
    const bin = path.resolve(__dirname, '../../bin/gatehouse.mjs');
    const child = spawn(process.execPath, [bin, 'demo', '--pg-port', '0', '--console-port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stderr.on('data', (d) => (err += d));
    const psqlLine = await new Promise<string>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`demo did not print a psql command:\n${out}\n${err}`)), 60_000);
      child.stdout.on('data', (d) => {
        out += d;
        const m = /psql "([^"]+)"/.exec(out);
        if (m && out.includes('Ctrl-C')) {
          clearTimeout(t);
          resolve(m[1]);
        }
      });
      child.on('exit', (code) => reject(new Error(`demo exited early (${code}):\n${out}\n${err}`)));
    });
    const dataDir = /--data-dir (\S+)/.exec(out)![1];
    expect(psqlLine).toMatch(/dbname=shop user=demo-agent-\S+ password=ghs_/);

    const count = await runTool('psql', [psqlLine, '-X', '-At', '-c', 'select count(*) from customers']);
    expect(count.stderr).toBe('');
    expect(count.stdout.trim()).toBe('200');
    const cards = await runTool('psql', [psqlLine, '-X', '-At', '-c', 'select count(*) from customers where card_number ~ $$^4000[0-9]{12}$$']);
    expect(cards.stdout.trim()).toBe('200');
    const orders = await runTool('psql', [psqlLine, '-X', '-At', '-c', 'select count(*) from orders']);
    expect(orders.stdout.trim()).toBe('1000');
    expect(existsSync(dataDir)).toBe(true);

    const code = await new Promise<number | null>((resolve) => {
      child.once('exit', (c) => resolve(c));
      child.kill('SIGINT');
    });
    expect(code).toBe(0);
    expect(out).toContain('Demo stopped; temporary data removed.');
    expect(existsSync(dataDir)).toBe(false);
  });
});
