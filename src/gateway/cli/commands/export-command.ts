import { copyFileSync, existsSync, renameSync, rmSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { CliError, printJson } from '../cli-io';
import { parsePeriod } from './review-command';
import { withClient, type CommonOptions } from './with-client';

const collect = (value: string, previous: string[]) => [...previous, value];

/** `gatehouse export evidence`: a signed evidence pack for an auditor. */
export function registerExportCommands(program: Command): void {
  const cmd = program.command('export').description('export evidence for auditors');

  cmd
    .command('evidence')
    .description('write a signed evidence pack (zip) of a period: activity, reviews, approvals, blocks, recordings, audit chain')
    .requiredOption('--period <start..end>', 'e.g. 2026-10-01..2026-12-31')
    .requiredOption('--out <file.zip>', 'where to write the pack')
    .option('--agent <name>', 'only this agent (repeatable)', collect, [])
    .option('--connection <name>', 'only this connection (repeatable)', collect, [])
    .option('--progress', 'print each phase on stderr as it starts (a progress line is shown anyway on a terminal)')
    .option('--data-dir <dir>', 'data directory')
    .option('--json', 'print JSON')
    .action(async (o: CommonOptions & { period: string; out: string; agent: string[]; connection: string[]; progress?: boolean }) => {
      const period = parsePeriod(o.period);
      const out = path.resolve(o.out);
      if (existsSync(out)) throw new CliError(`${o.out} already exists; choose another --out or remove it`, 2);
      if (!existsSync(path.dirname(out))) throw new CliError(`the folder of ${o.out} does not exist`, 2);
      await withClient(o, async ({ client }) => {
        const tty = process.stderr.isTTY;
        let phase = '';
        const off = client.on('evidence.progress', (p) => {
          if (tty) process.stderr.write(`\r\x1b[K${p.phase} ${p.total ? `${Math.floor((100 * p.done) / p.total)}%` : ''}`);
          else if (o.progress && p.phase !== phase) process.stderr.write(`${p.phase}...\n`);
          phase = p.phase;
        });
        let r;
        try {
          r = await client.call('evidence.export', { ...period, agents: o.agent, connections: o.connection });
        } finally {
          off();
          if (tty) process.stderr.write('\r\x1b[K');
        }
        moveFile(r.path, out);
        if (o.json) return printJson({ ...r, path: out });
        const c = r.counts;
        process.stdout.write(
          `wrote ${o.out} (${r.bytes.toLocaleString('en-US')} bytes, ${r.files} files): ${c.sessions} sessions, ${c.statements} statements, ${c.entitlements} entitlements, ` +
            `${c.approvals} approvals, ${c.blocks} blocks, ${c.auditEvents} audit events\n` +
            `signed by installation ${r.installationId} (key sha256 ${r.publicKeyFingerprint}); manifest sha256 ${r.manifestSha256}\n` +
            `check it with: gatehouse verify ${o.out}\n`,
        );
      });
    });
}

/** Move the pack from the data dir's exports/ to where the user asked (a copy when across file systems). */
function moveFile(from: string, to: string): void {
  try {
    renameSync(from, to);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EXDEV') throw err;
    copyFileSync(from, to);
    rmSync(from);
  }
}
