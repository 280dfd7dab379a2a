import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { CliError, collect, parsePort, printJson, printTable, readSecret } from '../cli-io';
import type { SshForwardingKind } from '../../../shared/contract';
import { withClient, type CommonOptions } from './with-client';

/** `--allow-forwarding tcpip,agent` -> the kinds; `none` -> []. */
function parseForwarding(value: string): SshForwardingKind[] {
  if (value.trim() === 'none') return [];
  const kinds = value.split(',').map((k) => k.trim()).filter(Boolean);
  for (const k of kinds) if (k !== 'tcpip' && k !== 'agent' && k !== 'x11') throw new CliError(`--allow-forwarding takes tcpip, agent, x11 or none, not "${k}"`);
  return kinds as SshForwardingKind[];
}

/** `gatehouse connection add|update|list|remove|test`. */
export function registerConnectionCommands(program: Command): void {
  const cmd = program.command('connection').description('register upstream databases (credentials are stored encrypted)');

  cmd
    .command('add <name>')
    .description('register a PostgreSQL database or an SSH host; the password comes from stdin or an environment variable')
    .option('--kind <kind>', 'postgres | ssh', 'postgres')
    .requiredOption('--host <host>', 'upstream host')
    .option('--port <port>', 'upstream port (default 5432, or 22 for ssh)', parsePort)
    .option('--database <db>', 'upstream database name (postgres)')
    .option('--private-key-file <file>', 'ssh: the private key Gatehouse logs in with (stored encrypted)')
    .requiredOption('--user <user>', 'upstream user')
    .option('--tls-mode <mode>', 'disable | prefer | require | verify-full', 'prefer')
    .option('--tag <tag>', 'a tag (repeatable)', collect, [])
    .option('--password-stdin', 'read the upstream password from standard input')
    .option('--password-env <var>', 'read the upstream password from this environment variable')
    .option('--allow-forwarding <kinds>', 'ssh: forwarding to allow through the gateway, comma-separated: tcpip (ssh -L, -W, -R), agent (ssh -A), x11 (ssh -X, -Y); or none', parseForwarding)
    .option('--data-dir <dir>', 'data directory')
    .option('--json', 'print JSON')
    .action(async (name: string, o: CommonOptions & { kind: string; host: string; port?: number; database?: string; privateKeyFile?: string; user: string; tlsMode: string; tag: string[]; passwordStdin?: boolean; passwordEnv?: string; allowForwarding?: SshForwardingKind[] }) => {
      if (o.kind !== 'postgres' && o.kind !== 'ssh') throw new CliError(`--kind must be postgres or ssh, not "${o.kind}"`);
      if (o.kind === 'postgres' && !o.database) throw new CliError('a postgres connection needs --database');
      if (o.kind === 'postgres' && o.privateKeyFile) throw new CliError('--private-key-file is for --kind ssh');
      const password = readSecret(o);
      let privateKey: string | undefined;
      if (o.privateKeyFile) {
        try {
          privateKey = readFileSync(o.privateKeyFile, 'utf8');
        } catch (err) {
          throw new CliError(`cannot read ${o.privateKeyFile}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
        }
      }
      await withClient(o, async ({ client }) => {
        const c = await client.call('connections.add', {
          name,
          kind: o.kind as 'postgres' | 'ssh',
          host: o.host,
          port: o.port ?? (o.kind === 'ssh' ? 22 : 5432),
          ...(o.database ? { database: o.database } : {}),
          ...(privateKey !== undefined ? { privateKey } : {}),
          username: o.user,
          tlsMode: o.tlsMode as 'prefer',
          tags: o.tag,
          ...(password !== undefined ? { password } : {}),
          ...(o.allowForwarding ? { allowForwarding: o.allowForwarding } : {}),
        });
        if (o.json) printJson(c);
        else if (c.kind === 'ssh') process.stdout.write(`connection "${c.name}" added (ssh ${c.username}@${c.host}:${c.port}, credential ${c.hasSecret ? 'stored encrypted' : 'none'})\n`);
        else process.stdout.write(`connection "${c.name}" added (${c.username}@${c.host}:${c.port}/${c.database}, credential ${c.hasSecret ? 'stored encrypted' : 'none'})\n`);
      });
    });

  cmd
    .command('update <name>')
    .description('change a connection: upstream host, port, user, and for ssh the forwarding it allows')
    .option('--host <host>', 'upstream host')
    .option('--port <port>', 'upstream port', parsePort)
    .option('--user <user>', 'upstream user')
    .option('--allow-forwarding <kinds>', 'ssh: forwarding to allow (replaces what was allowed), comma-separated: tcpip (ssh -L, -W, -R), agent (ssh -A), x11 (ssh -X, -Y); or none', parseForwarding)
    .option('--data-dir <dir>', 'data directory')
    .option('--json', 'print JSON')
    .action(async (name: string, o: CommonOptions & { host?: string; port?: number; user?: string; allowForwarding?: SshForwardingKind[] }) =>
      withClient(o, async ({ client }) => {
        const c = await client.call('connections.update', {
          name,
          ...(o.host ? { host: o.host } : {}),
          ...(o.port ? { port: o.port } : {}),
          ...(o.user ? { username: o.user } : {}),
          ...(o.allowForwarding ? { allowForwarding: o.allowForwarding } : {}),
        });
        if (o.json) return printJson(c);
        const forwarding = c.kind === 'ssh' ? `, forwarding: ${c.allowForwarding?.length ? c.allowForwarding.join(',') : 'none'}` : '';
        process.stdout.write(`connection "${c.name}" updated (${c.username}@${c.host}:${c.port}${forwarding})\n`);
      }),
    );

  cmd
    .command('list')
    .description('list connections')
    .option('--data-dir <dir>', 'data directory')
    .option('--json', 'print JSON')
    .action(async (o: CommonOptions) =>
      withClient(o, async ({ client }) => {
        const list = await client.call('connections.list', {});
        if (o.json) return printJson(list);
        printTable(list.map((c) => ({ ...c, target: `${c.username}@${c.host}:${c.port}/${c.database}`, secret: c.hasSecret })), [
          ['name', 'name'],
          ['kind', 'kind'],
          ['target', 'upstream'],
          ['tlsMode', 'tls'],
          ['secret', 'credential'],
          ['tags', 'tags'],
        ]);
      }),
    );

  cmd
    .command('remove <name>')
    .description('remove a connection and its grants (open sessions are closed)')
    .option('--data-dir <dir>', 'data directory')
    .option('--json', 'print JSON')
    .action(async (name: string, o: CommonOptions) =>
      withClient(o, async ({ client }) => {
        const r = await client.call('connections.remove', { name });
        if (o.json) printJson(r);
        else process.stdout.write(`connection "${name}" removed\n`);
      }),
    );

  cmd
    .command('test <name>')
    .description('connect to the upstream with the stored credential and report what fails (dns, tcp, tls, auth)')
    .option('--data-dir <dir>', 'data directory')
    .option('--json', 'print JSON')
    .action(async (name: string, o: CommonOptions) =>
      withClient(o, async ({ client }) => {
        const r = await client.call('connections.test', { name });
        if (o.json) {
          printJson(r);
          if (!r.ok) process.exitCode = 1;
          return;
        }
        if (!r.ok) throw new CliError(`connection "${name}" failed at ${r.stage}: ${r.message}`);
        process.stdout.write(`ok: ${r.serverVersion} (${r.elapsedMs} ms)\n`);
      }),
    );
}
