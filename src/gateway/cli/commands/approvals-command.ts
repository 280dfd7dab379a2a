import type { Command } from 'commander';
import type { ApprovalDto } from '../../../shared/contract';
import { CliError, printJson, printTable } from '../cli-io';
import { withClient, type CommonOptions } from './with-client';

const STATUSES = ['pending', 'approved', 'denied', 'timed_out', 'withdrawn', 'gateway_stopped'] as const;

/** `gatehouse approvals list|approve|deny`: statements and commands held for a human. */
export function registerApprovalCommands(program: Command): void {
  const cmd = program.command('approvals').description('statements held for a human decision');

  cmd
    .command('list')
    .description('list pending approval requests (--all: every request, newest first)')
    .option('--all', 'include settled requests')
    .option('--status <status>', `only requests in this state (${STATUSES.join(', ')})`)
    .option('--data-dir <dir>', 'data directory')
    .option('--json', 'print JSON')
    .action(async (o: CommonOptions & { all?: boolean; status?: string }) => {
      if (o.status && !STATUSES.includes(o.status as (typeof STATUSES)[number])) {
        throw new CliError(`unknown status "${o.status}" (one of ${STATUSES.join(', ')})`, 2);
      }
      await withClient(o, async ({ client }) => {
        const list = await client.call('approvals.list', { all: !!o.all, ...(o.status ? { status: o.status as ApprovalDto['status'] } : {}) });
        if (o.json) return printJson(list);
        const now = Date.now();
        printTable(
          list.map((a) => ({
            ...a,
            statement: oneLine(a.statement, 60),
            left: a.status === 'pending' ? `${Math.max(0, Math.round((Date.parse(a.expiresAt) - now) / 1000))}s` : '',
          })),
          [
            ['id', 'id'],
            ['status', 'status'],
            ['agentName', 'agent'],
            ['connectionName', 'connection'],
            ['rule', 'rule'],
            ['statement', 'statement'],
            ['left', 'time left'],
            ['decidedBy', 'decided by'],
          ],
        );
      });
    });

  cmd
    .command('approve <id>')
    .description('let a held statement run (--session-minutes: also let this session run statements held by the same rule)')
    .option('--session-minutes <n>', 'approve the same rule for the rest of this session, for N minutes')
    .option('--reason <text>', 'why (recorded)')
    .option('--data-dir <dir>', 'data directory')
    .option('--json', 'print JSON')
    .action(async (id: string, o: CommonOptions & { sessionMinutes?: string; reason?: string }) => {
      let sessionMinutes: number | undefined;
      if (o.sessionMinutes !== undefined) {
        sessionMinutes = Number(o.sessionMinutes);
        if (!Number.isInteger(sessionMinutes) || sessionMinutes < 1 || sessionMinutes > 1440) throw new CliError('--session-minutes must be a whole number from 1 to 1440', 2);
      }
      await withClient(o, async ({ client }) => {
        const a = await client.call('approvals.decide', { id, decision: 'approve', reason: o.reason, sessionMinutes });
        if (o.json) printJson(a);
        else process.stdout.write(`approved ${a.id} (${a.agentName} on ${a.connectionName}, rule ${a.rule})${a.scopeUntil ? `; same rule allowed in this session until ${a.scopeUntil}` : ''}\n`);
      });
    });

  cmd
    .command('deny <id>')
    .description('refuse a held statement; the client gets an error naming the rule')
    .option('--reason <text>', 'why (recorded and shown to the client)')
    .option('--data-dir <dir>', 'data directory')
    .option('--json', 'print JSON')
    .action(async (id: string, o: CommonOptions & { reason?: string }) =>
      withClient(o, async ({ client }) => {
        const a = await client.call('approvals.decide', { id, decision: 'deny', reason: o.reason });
        if (o.json) printJson(a);
        else process.stdout.write(`denied ${a.id} (${a.agentName} on ${a.connectionName}, rule ${a.rule})\n`);
      }),
    );
}

function oneLine(text: string, max: number): string {
  const s = text.replace(/\s+/g, ' ').trim();
  return s.length > max ? s.slice(0, max - 1) + '…' : s;
}
