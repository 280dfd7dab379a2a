import { readFileSync, writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { parsePolicy } from '../../policy/policy-file';
import { CliError, printJson } from '../cli-io';
import { withClient, type CommonOptions } from './with-client';

/** Read a file the user named, with a one-line error instead of a stack. */
function readUserFile(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new CliError(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

/** `gatehouse policy apply|export|check|history|diff`: the policy file (docs/policy.md). */
export function registerPolicyCommands(program: Command): void {
  const cmd = program.command('policy').description('the policy file: guardrails, approvals and masking (docs/policy.md)');

  cmd
    .command('apply <file>')
    .description('validate a policy file and make it the policy in force (running sessions pick it up at their next statement)')
    .option('--data-dir <dir>', 'data directory')
    .option('--json', 'print JSON')
    .action(async (file: string, o: CommonOptions) => {
      const yaml = readUserFile(file);
      // Validate here first: errors point into the user's file as FILE:LINE:COL, like a compiler's.
      const parsed = parsePolicy(yaml);
      if (!parsed.ok) {
        for (const e of parsed.errors) process.stderr.write(`${file}:${e.line}:${e.column}: ${e.path}: ${e.message}\n`);
        throw new CliError(`${file}: ${parsed.errors.length} problem${parsed.errors.length === 1 ? '' : 's'}; nothing applied`);
      }
      await withClient(o, async ({ client }) => {
        const r = await client.call('policy.apply', { yaml });
        if (o.json) printJson(r);
        else {
          const p = parsed.policy;
          process.stdout.write(
            `applied policy version ${r.version} (sha256 ${r.sha256.slice(0, 16)}…): ${p.rules.length} rule(s), ${p.presets.length} preset(s), ${p.masking.length} masking rule(s)\n`,
          );
        }
      });
    });

  cmd
    .command('export')
    .description('print the policy in force as YAML (or write it to --out)')
    .option('--out <file>', 'write to this file instead of stdout')
    .option('--data-dir <dir>', 'data directory')
    .option('--json', 'print JSON (version, sha256, yaml)')
    .action(async (o: CommonOptions & { out?: string }) =>
      withClient(o, async ({ client }) => {
        const r = await client.call('policy.get', {});
        if (o.out) {
          writeFileSync(o.out, r.yaml);
          if (o.json) printJson({ ...r, yaml: undefined, out: o.out });
          else process.stderr.write(`wrote policy version ${r.version} to ${o.out}\n`);
        } else if (o.json) printJson(r);
        else process.stdout.write(r.yaml.endsWith('\n') ? r.yaml : `${r.yaml}\n`);
      }),
    );

  cmd
    .command('history')
    .description('applied policy versions, newest first: when, by whom, lines added and removed')
    .option('--limit <n>', 'how many versions', (v) => Number.parseInt(v, 10), 20)
    .option('--data-dir <dir>', 'data directory')
    .option('--json', 'print JSON')
    .action(async (o: CommonOptions & { limit: number }) =>
      withClient(o, async ({ client }) => {
        const rows = await client.call('policy.history', { limit: o.limit });
        if (o.json) return printJson(rows);
        if (!rows.length) process.stdout.write('no policy applied yet (everything allowed)\n');
        for (const r of rows) process.stdout.write(`v${r.version}  ${r.appliedAt}  ${r.appliedBy}  +${r.linesAdded} -${r.linesRemoved}  sha256 ${r.sha256.slice(0, 16)}…\n`);
      }),
    );

  cmd
    .command('diff')
    .description('the unified diff between two applied versions (default: the one in force against the one before)')
    .option('--from <version>', 'older version (0 = before any policy)', (v) => Number.parseInt(v, 10))
    .option('--to <version>', 'newer version', (v) => Number.parseInt(v, 10))
    .option('--data-dir <dir>', 'data directory')
    .option('--json', 'print JSON')
    .action(async (o: CommonOptions & { from?: number; to?: number }) =>
      withClient(o, async ({ client }) => {
        const r = await client.call('policy.diff', { ...(o.from !== undefined ? { from: o.from } : {}), ...(o.to !== undefined ? { to: o.to } : {}) });
        if (o.json) return printJson(r);
        process.stdout.write(r.patch || `versions ${r.from} and ${r.to} are identical\n`);
      }),
    );

  cmd
    .command('check <sql>')
    .description('show what policy decides for SQL sent by an agent on a connection, without running it')
    .requiredOption('--connection <name>', 'connection')
    .requiredOption('--agent <name>', 'agent')
    .option('--data-dir <dir>', 'data directory')
    .option('--json', 'print JSON (decision and per-statement analysis)')
    .action(async (sql: string, o: CommonOptions & { connection: string; agent: string }) =>
      withClient(o, async ({ client }) => {
        const r = await client.call('policy.check', { connection: o.connection, agent: o.agent, sql });
        if (o.json) return printJson(r);
        const what = r.parseError ? 'unparsable SQL' : r.statements.map((s) => s.summary).join('; ') || '(no statements)';
        process.stdout.write(`${r.action}  rule ${r.rule ?? '-'}  ${what}\n`);
        process.stdout.write(`  ${r.message}\n`);
        if (r.action === 'approve') process.stdout.write(`  approval timeout ${Math.round(r.timeoutMs / 1000)}s\n`);
      }),
    );
}
