import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startGatehouse } from '../gatehouse';
import { createLogger } from '../core/logger';
import { defaultStaticDir } from './commands/serve-command';
import { demoSql } from './demo-data';
import { startDemoPostgres } from './demo-postgres';

/**
 * `gatehouse demo`: a throwaway PostgreSQL with sample customers and orders, registered as connection
 * `shop`, an agent `demo-agent` granted to it, and the gateway running. Prints the psql command to try.
 * Ctrl-C stops everything and removes the temporary data.
 */
export async function runDemo(opts: { dataDir?: string; pgPort: number; consolePort: number }): Promise<void> {
  process.stdout.write('Starting a throwaway PostgreSQL with sample data...\n');
  const db = await startDemoPostgres(demoSql());
  const dataDir = opts.dataDir ?? mkdtempSync(path.join(os.tmpdir(), 'gatehouse-demo-'));
  let gh;
  try {
    gh = await startGatehouse({ dataDir, pgPort: opts.pgPort, consolePort: opts.consolePort, staticDir: defaultStaticDir(), log: createLogger({ level: 'warn' }) });
    const ctx = { actor: 'demo' };
    if (!(await gh.api.call('connections.list', {}, ctx) as { name: string }[]).some((c) => c.name === 'shop')) {
      await gh.api.call('connections.add', { name: 'shop', host: '127.0.0.1', port: db.port, database: db.database, username: db.user, password: db.password, tlsMode: 'disable', tags: ['demo'] }, ctx);
    } else {
      await gh.api.call('connections.update', { name: 'shop', port: db.port, password: db.password }, ctx);
    }
    const agentName = `demo-agent-${Date.now().toString(36)}`;
    const agent = (await gh.api.call('agents.add', { name: agentName, tags: ['demo'] }, ctx)) as { secret: string };
    await gh.api.call('grants.add', { agent: agentName, connection: 'shop', expiresInSeconds: 8 * 3600 }, ctx);
    const pgPort = gh.info().listeners.postgres!.port;
    process.stdout.write(
      [
        '',
        'Gatehouse demo is running.',
        '',
        'Connect as the agent (it never learns the database password):',
        `  psql "host=127.0.0.1 port=${pgPort} dbname=shop user=${agentName} password=${agent.secret} sslmode=prefer"`,
        '',
        'Try:',
        '  select full_name, email from customers limit 5;',
        '  select status, count(*), sum(total) from orders group by status;',
        '',
        `Then see what it did:  gatehouse sessions list --data-dir ${dataDir}`,
        gh.consoleUrl ? `Console: ${gh.consoleUrl}${gh.adminToken ? `  (admin token: ${gh.adminToken})` : ''}` : '',
        '',
        'Ctrl-C stops the demo and removes its data.',
        '',
      ].join('\n'),
    );
  } catch (err) {
    await gh?.close();
    db.stop();
    throw err;
  }
  const started = gh;
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  process.stdout.write('\nStopping the demo...\n');
  await started.close();
  db.stop();
  if (!opts.dataDir) rmSync(dataDir, { recursive: true, force: true });
  process.stdout.write('Demo stopped; temporary data removed.\n');
}
