import type { Command } from 'commander';
import { CliError, parseDuration, printJson, printTable } from '../cli-io';
import { withClient, type CommonOptions } from './with-client';

/** `gatehouse grant add|list|revoke`. */
export function registerGrantCommands(program: Command): void {
  const cmd = program.command('grant').description('which agent may use which connection');

  cmd
    .command('add')
    .description('let an agent use a connection, optionally for a limited time')
    .requiredOption('--agent <name>', 'agent')
    .requiredOption('--connection <name>', 'connection')
    .option('--expires <duration>', 'lifetime, e.g. 30m, 2h, 7d')
    .option('--data-dir <dir>', 'data directory')
    .option('--json', 'print JSON')
    .action(async (o: CommonOptions & { agent: string; connection: string; expires?: string }) => {
      const expiresInSeconds = o.expires ? parseDuration(o.expires) : undefined;
      await withClient(o, async ({ client }) => {
        const g = await client.call('grants.add', { agent: o.agent, connection: o.connection, ...(expiresInSeconds ? { expiresInSeconds } : {}) });
        if (o.json) printJson(g);
        else process.stdout.write(`granted ${g.agentName} -> ${g.connectionName}${g.expiresAt ? ` until ${g.expiresAt}` : ''} (grant ${g.id})\n`);
      });
    });

  cmd
    .command('list')
    .description('list active grants (--all includes expired and revoked)')
    .option('--agent <name>', 'only this agent')
    .option('--connection <name>', 'only this connection')
    .option('--all', 'include expired and revoked grants')
    .option('--data-dir <dir>', 'data directory')
    .option('--json', 'print JSON')
    .action(async (o: CommonOptions & { agent?: string; connection?: string; all?: boolean }) =>
      withClient(o, async ({ client }) => {
        const list = await client.call('grants.list', { agent: o.agent, connection: o.connection, includeInactive: !!o.all });
        if (o.json) return printJson(list);
        printTable(list, [
          ['id', 'id'],
          ['agentName', 'agent'],
          ['connectionName', 'connection'],
          ['status', 'status'],
          ['expiresAt', 'expires'],
          ['createdAt', 'created'],
        ]);
      }),
    );

  cmd
    .command('revoke [id]')
    .description('revoke a grant by id, or every active grant of --agent on --connection; open sessions end at once')
    .option('--agent <name>', 'agent')
    .option('--connection <name>', 'connection')
    .option('--data-dir <dir>', 'data directory')
    .option('--json', 'print JSON')
    .action(async (id: string | undefined, o: CommonOptions & { agent?: string; connection?: string }) => {
      if (!id && !(o.agent && o.connection)) throw new CliError('give a grant id, or --agent and --connection', 2);
      if (id && (o.agent || o.connection)) throw new CliError('give either a grant id or --agent/--connection, not both', 2);
      await withClient(o, async ({ client }) => {
        const r = await client.call('grants.revoke', id ? { id } : { agent: o.agent!, connection: o.connection! });
        if (r.revoked === 0) {
          throw new CliError(id ? `grant ${id} is not active (already revoked or expired)` : `agent "${o.agent}" has no active grant on connection "${o.connection}"`);
        }
        if (o.json) printJson(r);
        else process.stdout.write(`revoked ${r.revoked} grant(s); closed ${r.sessionsClosed} open session(s)\n`);
      });
    });
}
