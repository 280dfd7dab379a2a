import type { Command } from 'commander';
import { CliError, printJson } from '../cli-io';
import { withClient, type CommonOptions } from './with-client';

/** `--recording-retention 30` (days) or `off` (keep forever). */
function parseRetention(v: string): number | null {
  if (v === 'off' || v === 'forever') return null;
  const n = Number(v.replace(/d$/, ''));
  if (!Number.isInteger(n) || n < 1 || n > 36_500) throw new CliError(`--recording-retention: "${v}" is not a number of days (1-36500) or "off"`, 2);
  return n;
}

const retentionText = (days: number | null) => (days === null ? 'off (recordings are kept forever)' : `${days} day(s)`);

/** `gatehouse settings show|set` and `gatehouse recordings purge`: run-time settings and retention. */
export function registerSettingsCommands(program: Command): void {
  const settings = program.command('settings').description('settings changed at run time (the rest are `gatehouse serve` options)');

  settings
    .command('show')
    .description('show the run-time settings')
    .option('--data-dir <dir>', 'data directory')
    .option('--json', 'print JSON')
    .action(async (o: CommonOptions) =>
      withClient(o, async ({ client }) => {
        const s = await client.call('settings.get', {});
        if (o.json) return printJson(s);
        process.stdout.write(`recording retention: ${retentionText(s.recordingRetentionDays)}${s.updatedBy ? ` (set ${s.updatedAt} by ${s.updatedBy})` : ''}\n`);
      }),
    );

  settings
    .command('set')
    .description('change run-time settings; each change is an audit event with before and after')
    .requiredOption('--recording-retention <days|off>', 'remove the recordings of sessions that ended more than this many days ago', parseRetention)
    .option('--data-dir <dir>', 'data directory')
    .option('--json', 'print JSON')
    .action(async (o: CommonOptions & { recordingRetention: number | null }) =>
      withClient(o, async ({ client }) => {
        const s = await client.call('settings.update', { recordingRetentionDays: o.recordingRetention });
        if (o.json) return printJson(s);
        process.stdout.write(`recording retention: ${retentionText(s.recordingRetentionDays)}\n`);
        if (s.recordingRetentionDays !== null) {
          process.stdout.write('a running gateway applies it now and every hour; `gatehouse recordings purge --dry-run` shows what is due\n');
        }
      }),
    );

  program
    .command('recordings')
    .description('session recordings (statements and terminal recordings)')
    .command('purge')
    .description('remove the recordings past the retention setting now (the gateway also does it hourly)')
    .option('--dry-run', 'only count what would be removed')
    .option('--data-dir <dir>', 'data directory')
    .option('--json', 'print JSON')
    .action(async (o: CommonOptions & { dryRun?: boolean }) =>
      withClient(o, async ({ client }) => {
        const r = await client.call('recordings.purge', { dryRun: !!o.dryRun });
        if (o.json) return printJson(r);
        if (r.retentionDays === null) {
          process.stdout.write('recording retention is off: nothing to remove (set it with `gatehouse settings set --recording-retention DAYS`)\n');
          return;
        }
        const what = `${r.sessions} session(s), ${r.statements} statement(s)${r.dryRun ? '' : `, ${r.files} terminal recording file(s)`}`;
        process.stdout.write(`${r.dryRun ? 'would remove' : 'removed'} the recordings of ${what} that ended before ${r.cutoff} (retention ${r.retentionDays} day(s))\n`);
      }),
    );
}
