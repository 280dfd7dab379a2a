import { createWriteStream } from 'node:fs';
import type { Command } from 'commander';
import { CliError, printJson } from '../cli-io';
import { withClient, type CommonOptions } from './with-client';

/** `gatehouse audit verify|export`. */
export function registerAuditCommands(program: Command): void {
  const cmd = program.command('audit').description('the tamper-evident audit trail');

  cmd
    .command('verify')
    .description('walk the audit hash chain and its signed checkpoints; report the first broken link')
    .option('--data-dir <dir>', 'data directory')
    .option('--json', 'print JSON')
    .action(async (o: CommonOptions) =>
      withClient(o, async ({ client }) => {
        const r = await client.call('audit.verify', {});
        if (o.json) printJson(r);
        if (!r.ok) throw new CliError(`audit chain broken${r.brokenAt !== null ? ` at event ${r.brokenAt}` : ''}: ${r.problem}`);
        if (!o.json) process.stdout.write(`ok: ${r.events} events chained, ${r.checkpoints} signed checkpoint(s) valid\n`);
      }),
    );

  cmd
    .command('export')
    .description('write audit events as JSON Lines (one event per line, stable field names) for a SIEM')
    .option('--since <time>', 'only events at or after this ISO-8601 time')
    .option('--format <format>', 'output format (jsonl)', 'jsonl')
    .option('--out <file>', 'write to a file instead of standard output')
    .option('--data-dir <dir>', 'data directory')
    .action(async (o: CommonOptions & { since?: string; format: string; out?: string }) => {
      if (o.format !== 'jsonl') throw new CliError(`unsupported format "${o.format}": use jsonl`, 2);
      if (o.since && Number.isNaN(Date.parse(o.since))) throw new CliError(`invalid time "${o.since}": use ISO-8601, e.g. 2026-10-01T00:00:00Z`, 2);
      const since = o.since ? new Date(o.since).toISOString() : undefined;
      const out = o.out ? createWriteStream(o.out) : process.stdout;
      await withClient(o, async ({ client }) => {
        let afterId = 0;
        for (;;) {
          const page = await client.call('audit.list', { order: 'asc', afterId, limit: 1000, ...(since ? { since } : {}) });
          for (const e of page) out.write(JSON.stringify(e) + '\n');
          if (page.length < 1000) break;
          afterId = page[page.length - 1].id;
        }
      });
      if (o.out) await new Promise<void>((r) => (out as ReturnType<typeof createWriteStream>).end(r));
    });
}
