import type { ServerInfoDto } from '../../../../shared/contract';

/** A ready-to-paste way for an agent to connect, shown once with its secret. */
export interface Snippet {
  id: 'psql' | 'env' | 'url' | 'ssh';
  label: string;
  text: string;
}

/**
 * The address clients should dial for a listener: its host, unless it listens on every interface
 * (0.0.0.0 / ::), then the host the console was reached at.
 */
export function dialHost(listenHost: string, consoleHost: string): string {
  return listenHost === '0.0.0.0' || listenHost === '::' || listenHost === '' ? consoleHost || '127.0.0.1' : listenHost;
}

// libpq conninfo values: quote when they hold spaces, quotes or backslashes (agent secrets do not, but
// connection names could one day).
const conninfoValue = (v: string) => (/^[^\s'\\]+$/.test(v) ? v : `'${v.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`);
const shellValue = (v: string) => (/^[A-Za-z0-9_.:/@%+=-]+$/.test(v) ? v : `'${v.replace(/'/g, `'\\''`)}'`);

/**
 * Snippets for an agent: psql, environment variables (PGHOST...) and a postgresql:// URL for a PostgreSQL
 * connection; an ssh command for an SSH connection (its secret is the password of `<agent>@<connection>`).
 */
export function agentSnippets(opts: {
  info: ServerInfoDto;
  consoleHost: string;
  agent: string;
  secret: string;
  connection: { name: string; kind: 'postgres' | 'ssh' } | null;
}): Snippet[] {
  const { info, agent, secret, connection } = opts;
  const out: Snippet[] = [];
  const pg = info.listeners.postgres;
  // The gateway always offers TLS to clients (its own certificate, pinned by fingerprint); ask for it.
  const sslmode = info.tlsFingerprint ? 'require' : 'prefer';
  if (pg && (!connection || connection.kind === 'postgres')) {
    const host = dialHost(pg.host, opts.consoleHost);
    const db = connection?.name ?? '<connection>';
    const fields = { host, port: String(pg.port), dbname: db, user: agent, password: secret, sslmode };
    out.push({
      id: 'psql',
      label: 'psql',
      text: `psql "${Object.entries(fields)
        .map(([k, v]) => `${k}=${conninfoValue(v)}`)
        .join(' ')}"`,
    });
    out.push({
      id: 'env',
      label: 'Environment (libpq, most drivers)',
      text: [`PGHOST=${shellValue(host)}`, `PGPORT=${pg.port}`, `PGDATABASE=${shellValue(db)}`, `PGUSER=${shellValue(agent)}`, `PGPASSWORD=${shellValue(secret)}`, `PGSSLMODE=${sslmode}`]
        .map((l) => `export ${l}`)
        .join('\n'),
    });
    out.push({
      id: 'url',
      label: 'Connection URL',
      text: `postgresql://${encodeURIComponent(agent)}:${encodeURIComponent(secret)}@${host.includes(':') ? `[${host}]` : host}:${pg.port}/${encodeURIComponent(db)}?sslmode=${sslmode}`,
    });
  }
  const ssh = info.listeners.ssh;
  if (ssh && connection?.kind === 'ssh') {
    const host = dialHost(ssh.host, opts.consoleHost);
    out.push({
      id: 'ssh',
      label: `ssh (password: the secret above${info.sshHostKeyFingerprint ? `; host key ${info.sshHostKeyFingerprint}` : ''})`,
      text: `ssh -p ${ssh.port} -l ${shellValue(`${agent}@${connection.name}`)} ${host}`,
    });
  }
  return out;
}
