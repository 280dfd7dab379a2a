import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { startGatehouse } from '../../gatehouse';
import { resolveDataDir } from '../../store/data-dir';
import { CliError, parsePort } from '../cli-io';

/** The built console UI next to the bundled CLI (dist/ -> out/renderer), if it was built. */
export function defaultStaticDir(): string | null {
  const dir = fileURLToPath(new URL('../out/renderer', import.meta.url));
  return existsSync(dir) ? dir : null;
}

/** `gatehouse serve`: the headless gateway and console. */
export function registerServeCommand(program: Command): void {
  program
    .command('serve')
    .description('run the gateway listeners and the console API (headless)')
    .option('--data-dir <dir>', 'data directory (default $GATEHOUSE_DATA_DIR or ~/.gatehouse)')
    .option('--host <host>', 'interface to listen on', '127.0.0.1')
    .option('--pg-port <port>', 'PostgreSQL listener port (0 = any free port)', parsePort, 6432)
    .option('--console-port <port>', 'console HTTP port (0 = any free port)', parsePort, 7070)
    .option('--ssh-port <port>', 'SSH listener port (0 = any free port)', parsePort, 2222)
    .option('--tls-cert <file>', 'TLS certificate (PEM) for the PostgreSQL listener')
    .option('--tls-key <file>', 'TLS private key (PEM)')
    .action(async (o: { dataDir?: string; host: string; pgPort: number; consolePort: number; sshPort: number; tlsCert?: string; tlsKey?: string }) => {
      if (!o.tlsCert !== !o.tlsKey) throw new CliError('give both --tls-cert and --tls-key, or neither', 2);
      const gh = await startGatehouse({
        dataDir: resolveDataDir(o.dataDir),
        host: o.host,
        pgPort: o.pgPort,
        consolePort: o.consolePort,
        sshPort: o.sshPort,
        tlsCertFile: o.tlsCert,
        tlsKeyFile: o.tlsKey,
        staticDir: defaultStaticDir(),
      }).catch((err: NodeJS.ErrnoException & { address?: string; port?: number }) => {
        if (err.code !== 'EADDRINUSE') throw err;
        const flag = err.port === o.consolePort ? '--console-port' : err.port === o.sshPort ? '--ssh-port' : '--pg-port';
        throw new CliError(`${err.address ?? o.host}:${err.port} is already in use; choose another port with ${flag} (0 = any free port)`);
      });
      const info = gh.info();
      const lines = [
        `gatehouse ${info.version} serving (data dir ${info.dataDir})`,
        `  postgres   ${info.listeners.postgres!.host}:${info.listeners.postgres!.port}`,
        `  console    ${gh.consoleUrl}`,
        ...(info.listeners.ssh ? [`  ssh        ${info.listeners.ssh.host}:${info.listeners.ssh.port}`, `  ssh host key ${info.sshHostKeyFingerprint}`] : []),
        `  tls sha256 ${info.tlsFingerprint}`,
      ];
      if (gh.adminToken) {
        lines.push('', `  admin token (shown once; sign in to the console with it): ${gh.adminToken}`);
      }
      process.stdout.write(lines.join('\n') + '\n');
      let stopping = false;
      const stop = async (signal: string) => {
        // A second signal while stopping means "now": the lock and run files of a dead pid are taken over
        // by the next start.
        if (stopping) process.exit(1);
        stopping = true;
        process.stdout.write(`\n${signal}: stopping...\n`);
        try {
          await gh.close();
          process.exit(0);
        } catch (err) {
          process.stderr.write(`gatehouse: stopping failed: ${(err as Error).message}\n`);
          process.exit(1);
        }
      };
      process.on('SIGINT', () => void stop('SIGINT'));
      process.on('SIGTERM', () => void stop('SIGTERM'));
    });
}
