import type { Command } from 'commander';
import { CliError, parseDuration, printJson, printTable } from '../cli-io';
import { withClient, type CommonOptions } from './with-client';

/** Parse `2026-10-01..2026-12-31` (dates or full ISO times) into an inclusive ISO range. */
export function parsePeriod(text: string): { periodStart: string; periodEnd: string } {
  const m = /^(.+)\.\.(.+)$/.exec(text);
  const start = m && Date.parse(m[1]);
  const endDay = m && /^\d{4}-\d{2}-\d{2}$/.test(m[2]);
  const end = m && Date.parse(m[2]) + (endDay ? 86_400_000 - 1 : 0);
  if (!m || Number.isNaN(start) || Number.isNaN(end)) throw new CliError(`invalid period "${text}": use START..END, e.g. 2026-10-01..2026-12-31`, 2);
  return { periodStart: new Date(start!).toISOString(), periodEnd: new Date(end!).toISOString() };
}

/** `gatehouse review start|list|show|decide|complete`. */
export function registerReviewCommands(program: Command): void {
  const cmd = program.command('review').description('access reviews: decide, with evidence, which agent keeps which access');

  cmd
    .command('start')
    .description('start a campaign over the grants in force during a period')
    .requiredOption('--name <name>', 'campaign name')
    .requiredOption('--period <start..end>', 'e.g. 2026-10-01..2026-12-31')
    .option('--agent <name>', 'only this agent')
    .option('--connection <name>', 'only this connection')
    .option('--agent-tag <tag>', 'only agents with this tag')
    .option('--connection-tag <tag>', 'only connections with this tag')
    .option('--data-dir <dir>', 'data directory')
    .option('--json', 'print JSON')
    .action(async (o: CommonOptions & { name: string; period: string; agent?: string; connection?: string; agentTag?: string; connectionTag?: string }) => {
      const period = parsePeriod(o.period);
      await withClient(o, async ({ client }) => {
        const r = await client.call('reviews.start', { name: o.name, ...period, agent: o.agent, connection: o.connection, agentTag: o.agentTag, connectionTag: o.connectionTag });
        if (o.json) printJson(r);
        else process.stdout.write(`review ${r.id} started: ${r.progress.total} entitlement(s) to decide\n`);
      });
    });

  cmd
    .command('list')
    .description('list campaigns')
    .option('--data-dir <dir>', 'data directory')
    .option('--json', 'print JSON')
    .action(async (o: CommonOptions) =>
      withClient(o, async ({ client }) => {
        const list = await client.call('reviews.list', {});
        if (o.json) return printJson(list);
        printTable(
          list.map((r) => ({ ...r, progress: `${r.progress.decided}/${r.progress.total}`, state: r.completedAt ? 'complete' : 'open' })),
          [
            ['id', 'id'],
            ['name', 'name'],
            ['periodStart', 'from'],
            ['periodEnd', 'to'],
            ['progress', 'decided'],
            ['state', 'state'],
          ],
        );
      }),
    );

  cmd
    .command('show <id>')
    .description('a campaign with each entitlement, its evidence and decision')
    .option('--data-dir <dir>', 'data directory')
    .option('--json', 'print JSON')
    .action(async (id: string, o: CommonOptions) =>
      withClient(o, async ({ client }) => {
        const r = await client.call('reviews.get', { id });
        if (o.json) return printJson(r);
        const v = r.review;
        process.stdout.write(`review "${v.name}" (${v.id}) ${v.periodStart} .. ${v.periodEnd}: ${v.progress.decided}/${v.progress.total} decided${v.completedAt ? `, completed ${v.completedAt}` : ''}\n\n`);
        printTable(
          r.items.map((i) => ({
            ...i,
            usage: i.evidence.unused ? 'unused' : `${i.evidence.sessions} sessions, ${i.evidence.statements} statements`,
            commands: Object.entries(i.evidence.statementsByCommand).map(([k, n]) => `${k} ${n}`).join(', '),
            last: i.evidence.lastUsedAt,
            denials: i.evidence.denials,
          })),
          [
            ['agentName', 'agent'],
            ['connectionName', 'connection'],
            ['usage', 'usage'],
            ['commands', 'commands'],
            ['denials', 'denials'],
            ['last', 'last used'],
            ['decision', 'decision'],
            ['comment', 'comment'],
          ],
        );
      }),
    );

  cmd
    .command('decide <id>')
    .description('keep, revoke (takes effect at once) or set a new expiry for one entitlement')
    .requiredOption('--agent <name>', 'agent')
    .requiredOption('--connection <name>', 'connection')
    .option('--keep', 'keep the access')
    .option('--revoke', 'revoke the access now (open sessions end)')
    .option('--expires <duration>', 'keep it, but only for this long from now (e.g. 30d)')
    .option('--comment <text>', 'why')
    .option('--data-dir <dir>', 'data directory')
    .option('--json', 'print JSON')
    .action(async (id: string, o: CommonOptions & { agent: string; connection: string; keep?: boolean; revoke?: boolean; expires?: string; comment?: string }) => {
      const chosen = [o.keep && 'keep', o.revoke && 'revoke', o.expires && 'expiry'].filter(Boolean) as ('keep' | 'revoke' | 'expiry')[];
      if (chosen.length !== 1) throw new CliError('choose exactly one of --keep, --revoke or --expires', 2);
      const expiresInSeconds = o.expires ? parseDuration(o.expires) : undefined;
      await withClient(o, async ({ client }) => {
        const { items } = await client.call('reviews.get', { id });
        const matching = items.filter((i) => i.agentName === o.agent && i.connectionName === o.connection);
        if (matching.length === 0) throw new CliError(`no entitlement of agent "${o.agent}" on connection "${o.connection}" in this review`);
        for (const item of matching) {
          const r = await client.call('reviews.decide', { id, grantId: item.grantId, decision: chosen[0], ...(expiresInSeconds ? { expiresInSeconds } : {}), ...(o.comment ? { comment: o.comment } : {}) });
          if (o.json) printJson(r);
          else process.stdout.write(`${r.agentName} on ${r.connectionName}: ${r.decision}${r.newExpiresAt ? ` until ${r.newExpiresAt}` : ''}\n`);
        }
      });
    });

  cmd
    .command('complete <id>')
    .description('close a campaign whose entitlements all have a decision; the result is signed')
    .option('--data-dir <dir>', 'data directory')
    .option('--json', 'print JSON')
    .action(async (id: string, o: CommonOptions) =>
      withClient(o, async ({ client }) => {
        const r = await client.call('reviews.complete', { id });
        if (o.json) printJson(r);
        else process.stdout.write(`review ${r.id} completed; sha256 ${r.digest} signed by the installation key\n`);
      }),
    );
}
