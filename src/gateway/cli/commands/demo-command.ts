import type { Command } from 'commander';
import { parsePort } from '../cli-io';

/** `gatehouse demo`: a throwaway PostgreSQL with sample data behind a ready-to-use gateway. */
export function registerDemoCommand(program: Command): void {
  program
    .command('demo')
    .description('start a throwaway PostgreSQL with sample data behind Gatehouse and print the psql command to try')
    .option('--data-dir <dir>', 'data directory (default: a temporary one)')
    .option('--pg-port <port>', 'gateway PostgreSQL port (0 = any free port)', parsePort, 6432)
    .option('--console-port <port>', 'console HTTP port (0 = any free port)', parsePort, 7070)
    .action(async (o: { dataDir?: string; pgPort: number; consolePort: number }) => {
      const { runDemo } = await import('../demo');
      await runDemo(o);
    });
}
