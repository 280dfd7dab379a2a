import { randomBytes, randomUUID } from 'node:crypto';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { EventBus } from '../../src/gateway/core/event-bus';
import { silentLogger, createLogger } from '../../src/gateway/core/logger';
import { createScramVerifier } from '../../src/gateway/identity/scram';
import { SecretBox } from '../../src/gateway/identity/secret-box';
import { PgGateway, type PgGatewayOptions } from '../../src/gateway/postgres/pg-gateway';
import { loadOrCreateTlsCertificate } from '../../src/gateway/postgres/tls-certificate';
import { AuditLog } from '../../src/gateway/recording/audit-log';
import { Recorder } from '../../src/gateway/recording/recorder';
import type { TlsMode } from '../../src/gateway/store/records';
import { Store } from '../../src/gateway/store/store';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const exec = promisify(execFile);

/**
 * A PgGateway wired to a real store, with helpers to register connections, agents and grants the way
 * the API does (sealed passwords, SCRAM verifiers). Used by the gateway's integration tests.
 */
export class GatewayHarness {
  readonly events = new EventBus();
  readonly store: Store;
  readonly secretBox = new SecretBox(randomBytes(32));
  readonly audit: AuditLog;
  readonly recorder: Recorder;
  readonly dataDir = mkdtempSync(path.join(os.tmpdir(), 'gh-gw-'));
  gateway!: PgGateway;

  constructor() {
    this.store = Store.open(path.join(this.dataDir, 'gatehouse.db'));
    this.audit = new AuditLog(this.store, this.events);
    const log = process.env.GATEHOUSE_TEST_LOG ? createLogger({ level: 'debug' }) : silentLogger;
    this.recorder = new Recorder(this.store, this.events, log, path.join(this.dataDir, 'recording.journal'));
  }

  /** Start the listener on 127.0.0.1 and a random port, with a generated TLS certificate. */
  async start(opts: Partial<PgGatewayOptions> = {}): Promise<this> {
    const cert = loadOrCreateTlsCertificate(this.dataDir);
    this.gateway = await PgGateway.start({
      host: '127.0.0.1',
      port: 0,
      store: this.store,
      secretBox: this.secretBox,
      audit: this.audit,
      events: this.events,
      recorder: this.recorder,
      log: process.env.GATEHOUSE_TEST_LOG ? createLogger({ level: 'debug' }) : silentLogger,
      tls: { cert: cert.cert, key: cert.key },
      ...opts,
    });
    return this;
  }

  get port(): number {
    return this.gateway.address.port;
  }

  addConnection(c: { name: string; host: string; port: number; database: string; username: string; password: string | null; tlsMode?: TlsMode }) {
    const id = randomUUID();
    const now = Date.now();
    this.store.connections.insert({
      id,
      name: c.name,
      kind: 'postgres',
      host: c.host,
      port: c.port,
      database: c.database,
      username: c.username,
      tlsMode: c.tlsMode ?? 'disable',
      secretEnc: c.password === null ? null : this.secretBox.seal(c.password, id),
      tags: [],
      createdAt: now,
      updatedAt: now,
    });
    return this.store.connections.getById(id)!;
  }

  addAgent(name: string): { id: string; secret: string } {
    const id = randomUUID();
    const secret = 'ghs_' + randomBytes(24).toString('base64url');
    this.store.agents.insert({ id, name, secretVerifier: createScramVerifier(secret), tags: [], disabled: false, createdAt: Date.now() });
    return { id, secret };
  }

  grant(agentId: string, connectionId: string, expiresAt: number | null = null): string {
    const id = randomUUID();
    this.store.grants.insert({ id, agentId, connectionId, createdAt: Date.now(), expiresAt, revokedAt: null, createdBy: 'test' });
    return id;
  }

  /** A libpq connection string to the gateway. */
  dsn(connection: string, agent: string, secret: string, sslmode = 'disable'): string {
    return `host=127.0.0.1 port=${this.port} dbname=${connection} user=${agent} password=${secret} sslmode=${sslmode} connect_timeout=10`;
  }

  /** Run psql against the gateway; resolves with stdout/stderr and the exit code (never throws). */
  async psql(dsn: string, args: string[], input?: string): Promise<{ code: number; stdout: string; stderr: string }> {
    return runTool('psql', [dsn, '-X', '-v', 'ON_ERROR_STOP=1', ...args], input);
  }

  auditKinds(): { kind: string; reason: unknown }[] {
    return this.store.audit.list({ limit: 1000 }).map((a) => ({ kind: a.kind, reason: a.detail.reason }));
  }

  async stop(): Promise<void> {
    await this.gateway?.close();
    this.recorder.close();
    this.store.close();
    rmSync(this.dataDir, { recursive: true, force: true });
  }
}

/** Run a client program, capturing output; never throws on a non-zero exit. */
export async function runTool(cmd: string, args: string[], input?: string, env?: NodeJS.ProcessEnv): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const p = exec(cmd, args, { env: { ...process.env, PGCONNECT_TIMEOUT: '10', ...env }, maxBuffer: 64 * 1024 * 1024 });
    if (input !== undefined) {
      p.child.stdin!.end(input);
    }
    const { stdout, stderr } = await p;
    return { code: 0, stdout, stderr };
  } catch (err: any) {
    return { code: typeof err.code === 'number' ? err.code : 1, stdout: err.stdout ?? '', stderr: err.stderr ?? String(err) };
  }
}
