import type { Command } from 'commander';
import { parsePositiveInt, printJson, printTable } from '../cli-io';
import { withClient, type CommonOptions } from './with-client';

/** `gatehouse sessions list|show`. */
export function registerSessionCommands(program: Command): void {
  const cmd = program.command('sessions').description('recorded sessions and their statements');

  cmd
    .command('list')
    .description('list sessions, newest first')
    .option('--agent <name>', 'only this agent')
    .option('--connection <name>', 'only this connection')
    .option('--active', 'only open sessions')
    .option('--limit <n>', 'how many', parsePositiveInt, 50)
    .option('--data-dir <dir>', 'data directory')
    .option('--json', 'print JSON')
    .action(async (o: CommonOptions & { agent?: string; connection?: string; active?: boolean; limit: number }) =>
      withClient(o, async ({ client }) => {
        const page = await client.call('sessions.list', { agent: o.agent, connection: o.connection, activeOnly: !!o.active, limit: o.limit });
        if (o.json) return printJson(page);
        printTable(
          page.items.map((s) => ({ ...s, state: s.endedAt ? s.endReason : 'open' })),
          [
            ['id', 'id'],
            ['agentName', 'agent'],
            ['connectionName', 'connection'],
            ['clientAddress', 'client'],
            ['tls', 'tls'],
            ['startedAt', 'started'],
            ['statementCount', 'statements'],
            ['state', 'state'],
          ],
        );
        process.stdout.write(`${page.items.length} of ${page.total} session(s)\n`);
      }),
    );

  cmd
    .command('show <id>')
    .description('one session with its statements (SSH: its channels and file operations)')
    .option('--data-dir <dir>', 'data directory')
    .option('--json', 'print JSON')
    .action(async (id: string, o: CommonOptions) =>
      withClient(o, async ({ client }) => {
        const r = await client.call('sessions.get', { id });
        if (o.json) return printJson(r);
        const s = r.session;
        process.stdout.write(
          `session ${s.id}\n  agent ${s.agentName} -> connection ${s.connectionName} from ${s.clientAddress}${s.tls ? ' over TLS' : ''}\n` +
            `  ${s.startedAt} .. ${s.endedAt ?? 'open'}${s.endReason ? ` (${s.endReason})` : ''}; ${s.bytesIn} bytes in, ${s.bytesOut} bytes out\n\n`,
        );
        if (r.ssh) {
          printTable(
            r.ssh.channels.map((c) => ({
              ...c,
              command: (c.command ?? '').replace(/\s+/g, ' ').slice(0, 60),
              exit: c.exitSignal ?? (c.exitStatus === null ? '' : String(c.exitStatus)),
              bytes: `${c.bytesIn}/${c.bytesOut}`,
              recording: c.recording ?? '',
            })),
            [
              ['channelId', '#'],
              ['kind', 'kind'],
              ['command', 'command'],
              ['exit', 'exit'],
              ['endReason', 'ended'],
              ['bytes', 'bytes in/out'],
              ['masked', 'masked'],
              ['recording', 'recording'],
            ],
          );
          if (r.ssh.fileOps.length) {
            process.stdout.write('\nfile operations\n');
            printTable(
              r.ssh.fileOps.map((f) => ({ ...f, path: f.target ? `${f.path} -> ${f.target}` : f.path, direction: f.direction ?? '' })),
              [
                ['channelId', '#'],
                ['at', 'at'],
                ['op', 'op'],
                ['direction', 'direction'],
                ['bytes', 'bytes'],
                ['path', 'path'],
              ],
            );
          }
          return;
        }
        printTable(
          r.statements.map((x) => ({ ...x, sql: x.sql.replace(/\s+/g, ' ').slice(0, 80), ms: x.durationMs.toFixed(2), result: x.errorCode ? `error ${x.errorCode}` : x.commandTag })),
          [
            ['seq', '#'],
            ['startedAt', 'started'],
            ['ms', 'ms'],
            ['protocol', 'protocol'],
            ['result', 'result'],
            ['rows', 'rows'],
            ['sql', 'sql'],
          ],
        );
      }),
    );
}
