import { useCallback, useEffect, useState, type FormEvent } from 'react';
import type { ConnectionDto, ConnectionTestResult, SshForwardingKind } from '../../../../shared/contract';
import { useClient } from '../../contract-client/client-context';
import { formErrors, parseTags } from '../../form-helpers';
import { formatTime } from '../../format';
import { stageStates } from './connection-stages';

type Editing = { mode: 'add' } | { mode: 'edit'; connection: ConnectionDto } | null;

/**
 * Connections: the upstreams agents reach through Gatehouse. Add, edit, test (which stage fails: dns,
 * tcp, tls, auth, query), tag and remove. Credentials are write-only: typed here, never shown again.
 */
export function ConnectionsScreen() {
  const client = useClient();
  const [items, setItems] = useState<ConnectionDto[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [editing, setEditing] = useState<Editing>(null);
  const load = useCallback(() => {
    setError(null);
    client.call('connections.list', {}).then(setItems, (err: Error) => setError(err.message));
  }, [client]);
  useEffect(load, [load]);

  return (
    <section className="screen" aria-labelledby="connections-title">
      <header className="screen-header">
        <h1 id="connections-title">Connections</h1>
        <span className="muted">{items ? `${items.length} registered` : ''}</span>
        <button className="primary push-right" onClick={() => setEditing({ mode: 'add' })} disabled={editing?.mode === 'add'}>
          Add connection
        </button>
      </header>
      {editing && (
        <ConnectionForm
          key={editing.mode === 'edit' ? editing.connection.id : 'add'}
          editing={editing}
          onDone={(saved) => {
            setEditing(null);
            if (saved) load();
          }}
        />
      )}
      {error && (
        <p className="error" role="alert">
          Could not load connections: {error}{' '}
          <button className="link" onClick={load}>
            Try again
          </button>
        </p>
      )}
      {!items && !error && <p className="muted">Loading connections…</p>}
      {items?.length === 0 && !editing && (
        <div className="empty">
          <p>No connections yet.</p>
          <p className="muted">
            A connection is a database (or SSH host) agents reach through Gatehouse. Use <strong>Add connection</strong>: Gatehouse keeps its
            password encrypted and agents never see it.
          </p>
        </div>
      )}
      {items && items.length > 0 && (
        <div className="table-wrap">
          <table className="grid" aria-label="Connections">
            <thead>
              <tr>
                <th>Name</th>
                <th>Kind</th>
                <th>Upstream</th>
                <th>User</th>
                <th>TLS / forwarding</th>
                <th>Credential</th>
                <th>Tags</th>
                <th>Updated</th>
                <th>Actions</th>
              </tr>
            </thead>
            <tbody>
              {items.map((c) => (
                <ConnectionRow key={c.id} c={c} onEdit={() => setEditing({ mode: 'edit', connection: c })} onRemoved={load} />
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

function ConnectionRow({ c, onEdit, onRemoved }: { c: ConnectionDto; onEdit: () => void; onRemoved: () => void }) {
  const client = useClient();
  const [test, setTest] = useState<{ running: boolean; result?: ConnectionTestResult; error?: string }>({ running: false });
  const [confirm, setConfirm] = useState(false);
  const [removeError, setRemoveError] = useState<string | null>(null);
  const runTest = () => {
    setTest({ running: true });
    client.call('connections.test', { name: c.name }).then(
      (result) => setTest({ running: false, result }),
      (err: Error) => setTest({ running: false, error: err.message }),
    );
  };
  const remove = () => {
    client.call('connections.remove', { name: c.name }).then(onRemoved, (err: Error) => setRemoveError(err.message));
  };
  return (
    <>
      <tr data-connection={c.name}>
        <td>
          <strong>{c.name}</strong>
        </td>
        <td>{c.kind}</td>
        <td className="mono">
          {c.host}:{c.port}
          {c.kind === 'postgres' ? `/${c.database}` : ''}
        </td>
        <td className="mono">{c.username}</td>
        <td data-forwarding={c.kind === 'ssh' ? (c.allowForwarding ?? []).join(',') : undefined}>
          {c.kind === 'postgres' ? (
            c.tlsMode
          ) : c.allowForwarding?.length ? (
            `forwards ${c.allowForwarding.join(', ')}`
          ) : (
            <span className="muted">no forwarding</span>
          )}
        </td>
        <td>{c.hasSecret ? <span className="badge good">stored</span> : <span className="badge">none</span>}</td>
        <td>
          {c.tags.map((t) => (
            <span key={t} className="tag">
              {t}
            </span>
          ))}
        </td>
        <td>{formatTime(c.updatedAt)}</td>
        <td className="row-actions">
          {c.kind === 'postgres' && (
            <button className="secondary slim" onClick={runTest} disabled={test.running}>
              {test.running ? 'Testing…' : 'Test'}
            </button>
          )}
          <button className="secondary slim" onClick={onEdit}>
            Edit
          </button>
          {confirm ? (
            <>
              <button className="danger" onClick={remove} autoFocus>
                Remove {c.name}
              </button>
              <button className="link" onClick={() => setConfirm(false)}>
                Keep
              </button>
            </>
          ) : (
            <button className="link danger-link" onClick={() => setConfirm(true)}>
              Remove…
            </button>
          )}
        </td>
      </tr>
      {(test.result || test.error || removeError) && (
        <tr className="row-detail">
          <td colSpan={9}>
            {removeError && (
              <p className="error" role="alert">
                Could not remove: {removeError}
              </p>
            )}
            {test.error && (
              <p className="error" role="alert">
                The test could not run: {test.error}
              </p>
            )}
            {test.result && <TestResult result={test.result} />}
          </td>
        </tr>
      )}
    </>
  );
}

function TestResult({ result }: { result: ConnectionTestResult }) {
  return (
    <div className="test-result" role="status" aria-label="Connection test result">
      <ol className="stages">
        {stageStates(result).map(({ stage, state }) => (
          <li key={stage} className={`stage ${state}`} data-stage={stage} data-state={state}>
            {state === 'passed' ? '✓' : state === 'failed' ? '✗' : '·'} {stage}
          </li>
        ))}
      </ol>
      <span className={result.ok ? 'good-text' : 'error'}>
        {result.ok ? `Connected (${result.serverVersion ?? 'server'})` : `Failed at ${result.stage}: ${result.message}`}
      </span>
      <span className="muted"> · {Math.round(result.elapsedMs)} ms</span>
    </div>
  );
}

/** The forwarding kinds an SSH connection can allow, as the form shows them. */
const FORWARDING_KINDS: [SshForwardingKind, string][] = [
  ['tcpip', 'TCP ports (ssh -L, -W, -R)'],
  ['agent', 'SSH agent (ssh -A)'],
  ['x11', 'X11 (ssh -X, -Y)'],
];

function ConnectionForm({ editing, onDone }: { editing: NonNullable<Editing>; onDone: (saved: boolean) => void }) {
  const client = useClient();
  const existing = editing.mode === 'edit' ? editing.connection : null;
  const [kind, setKind] = useState<'postgres' | 'ssh'>(existing?.kind ?? 'postgres');
  const [name, setName] = useState(existing?.name ?? '');
  const [host, setHost] = useState(existing?.host ?? '');
  const [port, setPort] = useState(String(existing?.port ?? 5432));
  const [database, setDatabase] = useState(existing?.database ?? '');
  const [username, setUsername] = useState(existing?.username ?? '');
  const [password, setPassword] = useState('');
  const [privateKey, setPrivateKey] = useState('');
  const [tlsMode, setTlsMode] = useState<ConnectionDto['tlsMode']>(existing?.tlsMode ?? 'prefer');
  const [tags, setTags] = useState(existing?.tags.join(', ') ?? '');
  const [forwarding, setForwarding] = useState<SshForwardingKind[]>(existing?.allowForwarding ?? []);
  const [busy, setBusy] = useState(false);
  const [errors, setErrors] = useState<{ message: string; fields: Record<string, string> } | null>(null);

  const submit = (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setErrors(null);
    const common = { host, port: Number(port), username, tags: parseTags(tags) };
    const call = existing
      ? client.call('connections.update', {
          name: existing.name,
          ...common,
          ...(existing.kind === 'postgres' ? { database, tlsMode } : { allowForwarding: forwarding }),
          ...(password ? { password } : {}),
        })
      : client.call('connections.add', {
          name,
          kind,
          ...common,
          ...(kind === 'postgres' ? { database, tlsMode } : {}),
          ...(password ? { password } : {}),
          ...(kind === 'ssh' && privateKey ? { privateKey } : {}),
          ...(kind === 'ssh' && forwarding.length ? { allowForwarding: forwarding } : {}),
        });
    call.then(
      () => {
        // The credential leaves the form as soon as it is saved.
        setPassword('');
        setPrivateKey('');
        setBusy(false);
        onDone(true);
      },
      (err) => {
        setBusy(false);
        setErrors(formErrors(err));
      },
    );
  };
  const fieldError = (f: string) => errors?.fields[f] && <span className="field-error">{errors.fields[f]}</span>;
  return (
    <form className="card form" onSubmit={submit} aria-label={existing ? `Edit ${existing.name}` : 'Add connection'}>
      <h2>{existing ? `Edit ${existing.name}` : 'Add connection'}</h2>
      <div className="form-grid">
        <label>
          Name
          <input value={name} onChange={(e) => setName(e.target.value)} disabled={Boolean(existing)} required autoFocus={!existing} name="name" />
          {fieldError('name')}
        </label>
        <label>
          Kind
          <select
            value={kind}
            disabled={Boolean(existing)}
            onChange={(e) => {
              const k = e.target.value as 'postgres' | 'ssh';
              setKind(k);
              if (port === '5432' || port === '22') setPort(k === 'ssh' ? '22' : '5432');
            }}
            name="kind"
          >
            <option value="postgres">PostgreSQL</option>
            <option value="ssh">SSH</option>
          </select>
        </label>
        <label>
          Host
          <input value={host} onChange={(e) => setHost(e.target.value)} required name="host" autoFocus={Boolean(existing)} />
          {fieldError('host')}
        </label>
        <label>
          Port
          <input value={port} onChange={(e) => setPort(e.target.value)} inputMode="numeric" required name="port" />
          {fieldError('port')}
        </label>
        {kind === 'postgres' && (
          <label>
            Database
            <input value={database} onChange={(e) => setDatabase(e.target.value)} required name="database" />
            {fieldError('database')}
          </label>
        )}
        <label>
          User
          <input value={username} onChange={(e) => setUsername(e.target.value)} required name="username" />
          {fieldError('username')}
        </label>
        {!(existing?.kind === 'ssh') && (
          <label>
            Password {existing ? <span className="muted">(write-only: leave empty to keep the stored one)</span> : <span className="muted">(write-only)</span>}
            <input
              type="password"
              value={password}
              onChange={(e) => setPassword(e.target.value)}
              autoComplete="new-password"
              name="password"
              placeholder={existing?.hasSecret ? '•••••• stored — type to replace' : ''}
            />
            {fieldError('password')}
          </label>
        )}
        {kind === 'postgres' && (
          <label>
            TLS to the database
            <select value={tlsMode} onChange={(e) => setTlsMode(e.target.value as ConnectionDto['tlsMode'])} name="tlsMode">
              <option value="disable">disable</option>
              <option value="prefer">prefer (try, fall back)</option>
              <option value="require">require (no verification)</option>
              <option value="verify-full">verify-full</option>
            </select>
          </label>
        )}
        <label>
          Tags <span className="muted">(comma separated, used by policy scopes)</span>
          <input value={tags} onChange={(e) => setTags(e.target.value)} name="tags" placeholder="prod, pci" />
          {fieldError('tags')}
        </label>
        {kind === 'ssh' && !existing && (
          <label className="wide">
            Private key <span className="muted">(optional instead of a password; unencrypted OpenSSH/PEM; write-only)</span>
            <textarea value={privateKey} onChange={(e) => setPrivateKey(e.target.value)} rows={4} spellCheck={false} name="privateKey" />
            {fieldError('privateKey')}
          </label>
        )}
        {kind === 'ssh' && (
          <fieldset className="wide" name="allowForwarding">
            <legend>
              Forwarding allowed through the gateway <span className="muted">(none by default; each forwarded connection is audited)</span>
            </legend>
            {FORWARDING_KINDS.map(([k, label]) => (
              <label key={k}>
                <input
                  type="checkbox"
                  name={`forward-${k}`}
                  checked={forwarding.includes(k)}
                  onChange={(e) => setForwarding((f) => (e.target.checked ? [...f.filter((x) => x !== k), k] : f.filter((x) => x !== k)))}
                />{' '}
                {label}
              </label>
            ))}
            {fieldError('allowForwarding')}
          </fieldset>
        )}
      </div>
      {existing?.kind === 'ssh' && <p className="muted small">An SSH credential cannot be replaced in place: remove the connection and add it again.</p>}
      {errors && (
        <p className="error" role="alert">
          {errors.message}
        </p>
      )}
      <div className="actions">
        <button type="submit" className="primary" disabled={busy}>
          {busy ? 'Saving…' : existing ? 'Save changes' : 'Add connection'}
        </button>
        <button type="button" className="link" onClick={() => onDone(false)}>
          Cancel
        </button>
      </div>
    </form>
  );
}
