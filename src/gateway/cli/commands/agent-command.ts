import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { CliError, collect, printJson, printTable } from '../cli-io';
import { withClient, type CommonOptions } from './with-client';

/** `gatehouse agent add|list|remove|rotate|disable|enable|tags`. */
export function registerAgentCommands(program: Command): void {
  const cmd = program.command('agent').description('identities for AI agents and bots');

  cmd
    .command('add <name>')
    .description('create an agent; its secret is printed once and never stored')
    .option('--tag <tag>', 'a tag (repeatable)', collect, [])
    .option('--ssh-key <file>', 'the agent\'s SSH public key (.pub): it logs in to the SSH listener with this key')
    .option('--data-dir <dir>', 'data directory')
    .option('--json', 'print JSON')
    .action(async (name: string, o: CommonOptions & { tag: string[]; sshKey?: string }) => {
      let sshPublicKey: string | undefined;
      if (o.sshKey) {
        try {
          sshPublicKey = readFileSync(o.sshKey, 'utf8');
        } catch (err) {
          throw new CliError(`cannot read ${o.sshKey}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
        }
      }
      return withClient(o, async ({ client, server }) => {
        const r = await client.call('agents.add', { name, tags: o.tag, ...(sshPublicKey !== undefined ? { sshPublicKey } : {}) });
        if (o.json) return printJson(r);
        const port = server?.pgPort ?? 6432;
        process.stdout.write(
          [
            `agent "${r.agent.name}" created.`,
            `secret (shown once, store it in the agent's secret manager):`,
            `  ${r.secret}`,
            ``,
            `connect, after granting a connection (gatehouse grant add --agent ${name} --connection <name>):`,
            `  psql "host=127.0.0.1 port=${port} dbname=<connection> user=${name} password=${r.secret}"`,
            `  ssh -p <ssh port> <connection>@127.0.0.1   (with --ssh-key; or user <agent>@<connection> and the secret as password)`,
            ``,
          ].join('\n'),
        );
      });
    });

  cmd
    .command('list')
    .description('list agents')
    .option('--data-dir <dir>', 'data directory')
    .option('--json', 'print JSON')
    .action(async (o: CommonOptions) =>
      withClient(o, async ({ client }) => {
        const list = await client.call('agents.list', {});
        if (o.json) return printJson(list);
        printTable(list, [
          ['name', 'name'],
          ['tags', 'tags'],
          ['disabled', 'disabled'],
          ['createdAt', 'created'],
        ]);
      }),
    );

  cmd
    .command('rotate <name>')
    .description('give an agent a new secret (printed once); the old one stops working and its open sessions end')
    .option('--data-dir <dir>', 'data directory')
    .option('--json', 'print JSON')
    .action(async (name: string, o: CommonOptions) =>
      withClient(o, async ({ client }) => {
        const r = await client.call('agents.rotate', { name });
        if (o.json) return printJson(r);
        process.stdout.write(
          [
            `agent "${r.agent.name}": new secret (shown once; the old one no longer works${r.sessionsClosed ? `, ${r.sessionsClosed} open session(s) ended` : ''}):`,
            `  ${r.secret}`,
            '',
          ].join('\n'),
        );
      }),
    );

  for (const [verb, disabled] of [
    ['disable', true],
    ['enable', false],
  ] as const) {
    cmd
      .command(`${verb} <name>`)
      .description(disabled ? 'refuse the agent at login (its open sessions end) until enabled again' : 'let a disabled agent log in again')
      .option('--data-dir <dir>', 'data directory')
      .option('--json', 'print JSON')
      .action(async (name: string, o: CommonOptions) =>
        withClient(o, async ({ client }) => {
          const r = await client.call('agents.update', { name, disabled });
          if (o.json) printJson(r);
          else process.stdout.write(`agent "${name}" ${disabled ? 'disabled' : 'enabled'}\n`);
        }),
      );
  }

  cmd
    .command('tags <name> [tags...]')
    .description("replace an agent's tags (none given: remove them all)")
    .option('--data-dir <dir>', 'data directory')
    .option('--json', 'print JSON')
    .action(async (name: string, tags: string[], o: CommonOptions) =>
      withClient(o, async ({ client }) => {
        const r = await client.call('agents.update', { name, tags });
        if (o.json) printJson(r);
        else process.stdout.write(`agent "${name}" tags: ${r.tags.join(', ') || '(none)'}\n`);
      }),
    );

  cmd
    .command('remove <name>')
    .description('remove an agent and its grants (open sessions are closed)')
    .option('--data-dir <dir>', 'data directory')
    .option('--json', 'print JSON')
    .action(async (name: string, o: CommonOptions) =>
      withClient(o, async ({ client }) => {
        const r = await client.call('agents.remove', { name });
        if (o.json) printJson(r);
        else process.stdout.write(`agent "${name}" removed\n`);
      }),
    );
}
