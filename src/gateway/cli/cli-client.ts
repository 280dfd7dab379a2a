import path from 'node:path';
import type { ContractClient } from '../../shared/contract';
import { createGatewayApi } from '../api/gateway-api';
import { localClient } from '../api/local-client';
import { EventBus } from '../core/event-bus';
import { createLogger } from '../core/logger';
import { fileKeyProvider } from '../identity/key-provider';
import { SecretBox } from '../identity/secret-box';
import { loadOrCreateSigningKey } from '../identity/signing-key';
import { testUpstream } from '../postgres/upstream';
import { AuditLog } from '../recording/audit-log';
import { StatementJournal } from '../recording/statement-journal';
import { httpClient } from '../server/http-client';
import { readServerFiles, runningGatewayPid } from '../server/run-files';
import { ensureDataDir } from '../store/data-dir';
import { Store } from '../store/store';
import { GATEHOUSE_VERSION } from '../version';

export interface CliConnection {
  client: ContractClient;
  /** The running server, when the CLI goes through it. */
  server: { consoleUrl: string; pgPort: number } | null;
  close(): void;
}

/**
 * How the CLI reaches the gateway for a data dir: through the running `gatehouse serve` when there is one
 * (so revocations close live sessions at once), else by opening the store directly.
 */
export async function connectCli(dataDir: string): Promise<CliConnection> {
  const running = readServerFiles(dataDir);
  if (running && (await healthy(running.info.consoleUrl))) {
    const client = httpClient(running.info.consoleUrl, running.cliToken);
    return { client, server: running.info, close: () => client.close() };
  }
  return openLocal(dataDir);
}

async function healthy(url: string): Promise<boolean> {
  try {
    const res = await fetch(`${url}/api/health`, { signal: AbortSignal.timeout(1500) });
    return res.ok;
  } catch {
    return false;
  }
}

function openLocal(dataDir: string): CliConnection {
  ensureDataDir(dataDir);
  const store = Store.open(path.join(dataDir, 'gatehouse.db'));
  const gatewayPid = runningGatewayPid(dataDir);
  if (gatewayPid === null) {
    // No gateway runs for this data dir: commit what a crashed one left in its journal before reading.
    StatementJournal.replay(path.join(dataDir, 'recording.journal'), store);
  }
  // A gateway without a console API (the desktop app's) may run: it owns the journal, and changes made
  // here reach its new sessions, but it can't be asked to end open ones.
  const closeSessions = () => {
    if (gatewayPid !== null) {
      process.stderr.write(`gatehouse: note: the gateway (pid ${gatewayPid}) for this data dir has no console API; its open sessions stay open\n`);
    }
    return 0;
  };
  const events = new EventBus();
  const log = createLogger({ level: 'warn' });
  const signer = loadOrCreateSigningKey(dataDir);
  const audit = new AuditLog(store, events, Date.now, signer);
  let audited = false;
  events.on('audit.appended', () => (audited = true));
  const api = createGatewayApi(
    {
      store,
      secretBox: new SecretBox(fileKeyProvider(dataDir).getKey()),
      audit,
      auditPublicKey: signer.publicKey,
      signer,
      events,
      runtime: { closeSessions, testConnection: (t) => testUpstream(t) },
      info: () => ({
        version: GATEHOUSE_VERSION,
        dataDir,
        installationId: store.meta.get('installation_id') ?? 'not yet started',
        listeners: { postgres: null, console: null },
        tlsFingerprint: null,
      }),
    },
    log,
  );
  const client = localClient(api, events, 'cli');
  return {
    client,
    server: null,
    close() {
      // Sign the chain's head after this command's changes, as a stopping server does.
      if (audited) audit.checkpoint();
      store.close();
    },
  };
}
