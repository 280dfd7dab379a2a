import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { startGatehouse, type Gatehouse } from '../gatehouse';
import { createLogger, type Logger, type LogLevel } from '../core/logger';
import { defaultStaticDir } from './commands/serve-command';
import { demoSql } from './demo-data';
import { startDemoPostgres, type DemoPostgres } from './demo-postgres';

/** Options of `gatehouse demo`. Ports default to serve's (6432, 7070), or any free port when those are taken. */
export interface DemoOptions {
  /** Keep the gateway's data here (kept after the demo); default: a temp dir removed at the end. */
  dataDir?: string;
  pgPort?: number;
  consolePort?: number;
  log?: Logger;
}

const HOST = '127.0.0.1';
const CONNECTION = 'shop';
const AGENT = 'demo-agent';
const ACTOR = { actor: 'demo' };

const say = (line = '') => process.stdout.write(line + '\n');

/** SIGINT/SIGTERM as a promise, listening from the very start so a Ctrl-C during startup still cleans up. */
function listenForStop(): { requested: () => boolean; wait: Promise<void>; dispose(): void } {
  let requested = false;
  let resolve!: () => void;
  const wait = new Promise<void>((r) => (resolve = r));
  const onSignal = () => {
    if (requested) say('Still stopping...');
    requested = true;
    resolve();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return {
    requested: () => requested,
    wait,
    dispose() {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
}

/** `preferred` if it is free on 127.0.0.1 right now, else 0 (any free port). */
async function portOrAny(preferred: number): Promise<number> {
  if (preferred === 0) return 0;
  const free = await new Promise<boolean>((resolve) => {
    const s = net.createServer();
    s.once('error', () => resolve(false));
    s.listen(preferred, HOST, () => s.close(() => resolve(true)));
  });
  if (!free) say(`Port ${preferred} is in use; using a free port instead.`);
  return free ? preferred : 0;
}

/**
 * Register the demo database as connection `shop` (or point an existing one at it), and create the agent
 * `demo-agent` afresh (its secret is shown only at creation) with a grant. Returns the agent's secret.
 */
async function registerDemo(gh: Gatehouse, db: DemoPostgres): Promise<string> {
  const connections = (await gh.api.call('connections.list', {}, ACTOR)) as { name: string }[];
  if (connections.some((c) => c.name === CONNECTION)) {
    await gh.api.call('connections.update', { name: CONNECTION, host: HOST, port: db.port, database: db.database, username: db.user, password: db.password, tlsMode: 'disable' }, ACTOR);
  } else {
    await gh.api.call('connections.add', { name: CONNECTION, host: HOST, port: db.port, database: db.database, username: db.user, password: db.password, tlsMode: 'disable', tags: ['demo'] }, ACTOR);
  }
  const agents = (await gh.api.call('agents.list', {}, ACTOR)) as { name: string }[];
  if (agents.some((a) => a.name === AGENT)) await gh.api.call('agents.remove', { name: AGENT }, ACTOR);
  const { secret } = (await gh.api.call('agents.add', { name: AGENT, tags: ['demo'] }, ACTOR)) as { secret: string };
  await gh.api.call('grants.add', { agent: AGENT, connection: CONNECTION }, ACTOR);
  return secret;
}

/** What to type next: the psql line, queries to try, where to look, how to stop. */
function printInstructions(gh: Gatehouse, db: DemoPostgres, secret: string, dataDir: string, keepData: boolean): void {
  const pgPort = gh.info().listeners.postgres!.port;
  say();
  say('Gatehouse demo is running.');
  say();
  say(`  PostgreSQL with sample data  ${HOST}:${db.port}, database ${db.database}, files in ${db.dir}`);
  say(`                               (the password of its role ${db.user} is known only to Gatehouse)`);
  say(`  Gatehouse gateway            ${HOST}:${pgPort}, data dir ${dataDir}`);
  say();
  say(`Connect as the agent "${AGENT}" through the gateway:`);
  say();
  say(`  psql "host=${HOST} port=${pgPort} dbname=${CONNECTION} user=${AGENT} password=${secret} sslmode=prefer"`);
  say();
  say('Queries to try:');
  say('  select full_name, email, card_number from customers order by id limit 5;');
  say('  select status, count(*), sum(total) from orders group by status order by 2 desc;');
  say('  select c.full_name, count(o.id) as orders, sum(o.total) as spent');
  say('    from customers c join orders o on o.customer_id = c.id group by c.id order by spent desc limit 5;');
  say();
  say(`Every statement is recorded:  npx gatehouse sessions list --data-dir ${dataDir}`);
  if (gh.consoleUrl) {
    say(`Console: ${gh.consoleUrl}`);
    say(gh.adminToken ? `  admin token: ${gh.adminToken}` : '  admin token: the one printed when this data dir was first used');
  }
  say();
  say(`Ctrl-C to stop (stops PostgreSQL and the gateway${keepData ? '' : ', removes the temporary data'}).`);
}

/**
 * `gatehouse demo`: start a throwaway PostgreSQL with sample customers and orders, Gatehouse in front of
 * it (connection `shop`, agent `demo-agent` with a grant), and print the psql command to try. Runs until
 * SIGINT/SIGTERM, then stops Gatehouse and PostgreSQL and removes the temporary directories.
 */
export async function runDemo(opts: DemoOptions = {}): Promise<void> {
  const stop = listenForStop();
  const log = opts.log ?? createLogger({ level: (process.env.GATEHOUSE_LOG_LEVEL as LogLevel) || 'warn' });
  let db: DemoPostgres | null = null;
  let gh: Gatehouse | null = null;
  let tempDataDir: string | null = null;
  // Whatever happens to the process, don't leave a PostgreSQL running or temp data behind.
  const cleanupSync = () => {
    db?.stop();
    if (tempDataDir) rmSync(tempDataDir, { recursive: true, force: true });
  };
  process.on('exit', cleanupSync);

  const startThenWait = async () => {
    say('Starting a throwaway PostgreSQL with sample data...');
    db = await startDemoPostgres(demoSql());
    if (stop.requested()) return;
    const dataDir = opts.dataDir ?? (tempDataDir = mkdtempSync(path.join(os.tmpdir(), 'gatehouse-demo-')));
    const pgPort = await portOrAny(opts.pgPort ?? 6432);
    const consolePort = await portOrAny(opts.consolePort ?? 7070);
    say('Starting Gatehouse...');
    gh = await startGatehouse({ dataDir, host: HOST, pgPort, consolePort, sshPort: null, staticDir: defaultStaticDir(), log });
    if (stop.requested()) return;
    const secret = await registerDemo(gh, db);
    if (stop.requested()) return;
    printInstructions(gh, db, secret, dataDir, tempDataDir === null);
    await stop.wait;
  };

  try {
    await startThenWait();
  } catch (err) {
    // A Ctrl-C during startup also interrupts the PostgreSQL tools we run: that is a stop, not a failure.
    // Their synchronous run kept our own signal handler waiting: let it run before deciding.
    await new Promise((resolve) => setTimeout(resolve, 50));
    if (!stop.requested()) throw err;
  } finally {
    if (stop.requested()) say('\nStopping the demo...');
    try {
      await (gh as Gatehouse | null)?.close();
    } finally {
      cleanupSync();
      process.off('exit', cleanupSync);
      stop.dispose();
    }
  }
  say(tempDataDir ? 'Demo stopped; temporary data removed.' : 'Demo stopped.');
}
