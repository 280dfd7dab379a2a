import { X509Certificate, createHmac, randomUUID, timingSafeEqual } from 'node:crypto';
import path from 'node:path';
import type { ServerInfoDto } from '../shared/contract';
import { createGatewayApi, type GatewayApi } from './api/gateway-api';
import { loadCompiledPolicy } from './api/policy-loader';
import { ApprovalBroker } from './approvals/approval-broker';
import { loadOrCreateMaskingKey } from './identity/masking-key';
import { brokenPolicy, type CompiledPolicy } from './policy/policy-engine';
import { loadSqlParser } from './policy/sql-parser';
import { createSqlPolicy } from './postgres/sql-policy';
import { EventBus } from './core/event-bus';
import { createLogger, type Logger } from './core/logger';
import { loadOrCreateAdminToken, randomToken, verifyAdminToken } from './identity/admin-token';
import { fileKeyProvider, type KeyProvider } from './identity/key-provider';
import { SecretBox } from './identity/secret-box';
import { loadOrCreateSigningKey } from './identity/signing-key';
import { PgGateway } from './postgres/pg-gateway';
import { loadOrCreateTlsCertificate } from './postgres/tls-certificate';
import { loadOrCreateSshHostKey } from './ssh/host-key';
import { SshGateway } from './ssh/ssh-gateway';
import { testUpstream } from './postgres/upstream';
import { AuditLog } from './recording/audit-log';
import { Recorder } from './recording/recorder';
import { RecordingRetention } from './recording/retention';
import { StatementJournal } from './recording/statement-journal';
import { startConsoleServer, type ConsoleServer } from './server/console-server';
import { acquireRunLock, removeServerFiles, writeServerFiles } from './server/run-files';
import { ensureDataDir } from './store/data-dir';
import { Store } from './store/store';
import { GATEHOUSE_VERSION } from './version';

/** How often the gateway applies the recording retention setting. */
const RETENTION_INTERVAL_MS = 3_600_000;

export interface GatehouseOptions {
  dataDir: string;
  /** Interface for every listener (default 127.0.0.1). */
  host?: string;
  /** PostgreSQL listener port (default 6432; 0 = any free port). */
  pgPort?: number;
  /** SSH listener port (default 2222; 0 = any free port; null = no SSH listener). */
  sshPort?: number | null;
  /** Console HTTP port (default 7070; 0 = any free port; null = no console server). */
  consolePort?: number | null;
  /** Master key source (default: `<dataDir>/master.key`). The desktop app passes its safeStorage key. */
  keyProvider?: KeyProvider;
  tlsCertFile?: string;
  tlsKeyFile?: string;
  /** Built renderer to serve (null = none). */
  staticDir?: string | null;
  /** better-sqlite3 binary for a non-Node ABI (Electron). */
  sqliteBinding?: string;
  log?: Logger;
}

export interface Gatehouse {
  readonly api: GatewayApi;
  readonly events: EventBus;
  readonly store: Store;
  readonly consoleUrl: string | null;
  /** The admin token, only on the run that created it (print it once). */
  readonly adminToken: string | null;
  info(): ServerInfoDto;
  close(): Promise<void>;
}

/**
 * Start everything a Gatehouse installation runs: the store, the PostgreSQL gateway, the API and (when
 * asked) the console server. Used by `gatehouse serve`, the demo and the desktop app's gateway process.
 */
export async function startGatehouse(opts: GatehouseOptions): Promise<Gatehouse> {
  const dataDir = ensureDataDir(opts.dataDir);
  const log = opts.log ?? createLogger();
  const host = opts.host ?? '127.0.0.1';
  const lock = acquireRunLock(dataDir);
  const teardown = new Teardown(log);
  teardown.add(() => lock.release());
  try {
    return await startParts(opts, dataDir, host, log, teardown);
  } catch (err) {
    // Release what was already open (store, listeners, lock) when a later step fails: busy port, bad key.
    await teardown.run();
    throw err;
  }
}

/** Teardown steps registered while starting, run once in reverse order (at close or a failed start). */
class Teardown {
  private readonly steps: (() => void | Promise<void>)[] = [];
  constructor(private readonly log: Logger) {}

  add(step: () => void | Promise<void>): void {
    this.steps.push(step);
  }

  async run(): Promise<void> {
    for (const step of this.steps.splice(0).reverse()) {
      try {
        await step();
      } catch (err) {
        this.log.error('stopping a part of the gateway failed', { err });
      }
    }
  }
}

async function startParts(opts: GatehouseOptions, dataDir: string, host: string, log: Logger, teardown: Teardown): Promise<Gatehouse> {
  const store = Store.open(path.join(dataDir, 'gatehouse.db'), { nativeBinding: opts.sqliteBinding });
  teardown.add(() => store.close());
  const journalFile = path.join(dataDir, 'recording.journal');
  const replayed = StatementJournal.replay(journalFile, store);
  if (replayed) log.warn('statements from the journal of an earlier run were committed', { count: replayed });
  const orphans = store.sessions.closeOrphans(Date.now());
  if (orphans) log.warn('sessions left open by an earlier crash were closed', { count: orphans });
  let installationId = store.meta.get('installation_id');
  if (!installationId) {
    installationId = randomUUID();
    store.meta.set('installation_id', installationId);
  }

  const events = new EventBus();
  const signer = loadOrCreateSigningKey(dataDir);
  const audit = new AuditLog(store, events, Date.now, signer);
  // Runs after the recorder has flushed and before the store closes (teardown runs in reverse).
  teardown.add(() => audit.checkpoint());
  const recorder = new Recorder(store, events, log, journalFile, audit);
  teardown.add(() => recorder.close());
  const masterKey = (opts.keyProvider ?? fileKeyProvider(dataDir)).getKey();
  const secretBox = new SecretBox(masterKey);
  const tls = loadOrCreateTlsCertificate(dataDir, { certFile: opts.tlsCertFile, keyFile: opts.tlsKeyFile });
  if (tls.generated) log.info('generated a self-signed TLS certificate', { fingerprint: tls.fingerprint256 });

  // Policy: the SQL parser, the policy in force (reloaded on every change), approvals, the masking key.
  await loadSqlParser();
  let policy: CompiledPolicy = loadCompiledPolicy(store);
  events.on('policy.changed', (v) => {
    try {
      policy = loadCompiledPolicy(store);
      log.info('policy reloaded', { version: v.version });
    } catch (err) {
      // Fail closed: a policy that can't be read blocks every statement until it can.
      log.error('could not reload the policy; blocking every statement', { err });
      policy = brokenPolicy('the policy could not be read from the store');
    }
  });
  const approvals = new ApprovalBroker(store, audit, events, log);
  const orphanApprovals = approvals.recoverOrphans();
  if (orphanApprovals) log.warn('approval requests left pending by an earlier run were denied', { count: orphanApprovals });
  const maskingKey = loadOrCreateMaskingKey(dataDir);

  const pg = await PgGateway.start({
    host,
    port: opts.pgPort ?? 6432,
    store,
    secretBox,
    audit,
    events,
    recorder,
    log,
    tls: { cert: tls.cert, key: tls.key },
    scramMockKey: createHmac('sha256', masterKey).update('gatehouse scram mock key').digest(),
    policy: { engine: createSqlPolicy(() => policy), approvals, maskingKey },
  });
  teardown.add(() => pg.close());
  // Runs before the listeners close: held statements are denied (and their clients told) first.
  teardown.add(() => approvals.close());
  const sshHostKey = loadOrCreateSshHostKey(dataDir);
  if (sshHostKey.generated) log.info('generated the SSH host key', { fingerprint: sshHostKey.fingerprint });
  const ssh =
    opts.sshPort === null
      ? null
      : await SshGateway.start({ host, port: opts.sshPort ?? 2222, dataDir, hostKey: sshHostKey, store, secretBox, audit, recorder, log, policy: () => policy, approvals, maskingKey });
  if (ssh) teardown.add(() => ssh.close());
  let consoleServer: ConsoleServer | null = null;

  const x509 = new X509Certificate(tls.cert);
  const tlsInfo = { subject: x509.subject.replace(/\n/g, ', '), validFrom: new Date(x509.validFrom).toISOString(), validTo: new Date(x509.validTo).toISOString(), own: Boolean(opts.tlsCertFile) };
  const info = (): ServerInfoDto => ({
    version: GATEHOUSE_VERSION,
    dataDir,
    installationId: installationId!,
    listeners: {
      postgres: { host, port: pg.address.port },
      console: consoleServer ? { host, port: consoleServer.port } : null,
      ssh: ssh ? { host, port: ssh.address.port } : null,
    },
    tlsFingerprint: tls.fingerprint256,
    sshHostKeyFingerprint: sshHostKey.fingerprint,
    tls: tlsInfo,
  });
  // Recording retention: at start, every hour, and right after the setting changes.
  const retention = new RecordingRetention({ store, audit, dataDir, log });
  const applyRetention = () => {
    retention.run().catch((err: unknown) => log.error('recording retention failed; it is tried again within the hour', { err }));
  };
  applyRetention();
  const retentionTimer = setInterval(applyRetention, RETENTION_INTERVAL_MS);
  retentionTimer.unref();
  teardown.add(() => clearInterval(retentionTimer));
  events.on('settings.changed', applyRetention);

  const api = createGatewayApi(
    {
      store,
      secretBox,
      audit,
      events,
      info,
      auditPublicKey: signer.publicKey,
      signer,
      approvals,
      retention,
      runtime: { closeSessions: (f, reason) => pg.closeSessions(f, reason) + (ssh?.closeSessions(f, reason) ?? 0), testConnection: (t) => testUpstream(t) },
    },
    log,
  );

  const admin = loadOrCreateAdminToken(dataDir);
  if (opts.consolePort !== null) {
    const cliToken = Buffer.from(randomToken('ghc_'));
    const isCliToken = (token: string) => {
      const t = Buffer.from(token);
      return t.length === cliToken.length && timingSafeEqual(t, cliToken);
    };
    const server = await startConsoleServer({
      api,
      events,
      host,
      port: opts.consolePort ?? 7070,
      staticDir: opts.staticDir ?? null,
      log,
      authenticate: (token) => (isCliToken(token) ? 'cli' : verifyAdminToken(admin.hash, token) ? 'admin' : null),
    });
    consoleServer = server;
    teardown.add(() => server.close());
    teardown.add(() => removeServerFiles(dataDir));
    writeServerFiles(dataDir, { pid: process.pid, consoleUrl: server.url, pgPort: pg.address.port }, cliToken.toString());
  }

  let closing: Promise<void> | null = null;
  return {
    api,
    events,
    store,
    consoleUrl: consoleServer?.url ?? null,
    adminToken: admin.token,
    info,
    close() {
      closing ??= teardown.run().then(() => log.info('gatehouse stopped'));
      return closing;
    },
  };
}
