import { useCallback, useEffect, useMemo, useState, type FormEvent } from 'react';
import type { AgentDto, ConnectionDto, GrantDto, ServerInfoDto } from '../../../../shared/contract';
import { useClient, useEvent } from '../../contract-client/client-context';
import { formErrors, parseTags } from '../../form-helpers';
import { formatCountdown, formatTime } from '../../format';
import { useNow } from '../../hooks/use-now';
import { agentSnippets } from './agent-snippets';
import { GRANT_LIFETIMES, grantStatusAt, mergeGrant } from './grant-list';

/**
 * Agents: identities for AI agents and bots. Create one (its secret is shown once, with copy buttons and
 * ready-to-paste snippets), tag, remove; grant connections with an expiry and a live countdown; revoke.
 */
export function AgentsScreen() {
  const client = useClient();
  const [agents, setAgents] = useState<AgentDto[] | null>(null);
  const [connections, setConnections] = useState<ConnectionDto[]>([]);
  const [info, setInfo] = useState<ServerInfoDto | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [creating, setCreating] = useState(false);
  const [created, setCreated] = useState<{ agent: AgentDto; secret: string; rotated?: boolean } | null>(null);
  const [selected, setSelected] = useState<string | null>(null);
  const load = useCallback(() => {
    setError(null);
    Promise.all([client.call('agents.list', {}), client.call('connections.list', {}), client.call('server.info', {})]).then(
      ([a, c, i]) => {
        setAgents(a);
        setConnections(c);
        setInfo(i);
      },
      (err: Error) => setError(err.message),
    );
  }, [client]);
  useEffect(load, [load]);
  const current = agents?.find((a) => a.name === selected) ?? null;

  return (
    <section className="screen" aria-labelledby="agents-title">
      <header className="screen-header">
        <h1 id="agents-title">Agents</h1>
        <span className="muted">{agents ? `${agents.length} registered` : ''}</span>
        <button className="primary push-right" onClick={() => (setCreating(true), setCreated(null))} disabled={creating}>
          Create agent
        </button>
      </header>
      {creating && (
        <CreateAgentForm
          onCancel={() => setCreating(false)}
          onCreated={(r) => {
            setCreating(false);
            setCreated(r);
            setSelected(r.agent.name);
            load();
          }}
        />
      )}
      {created && info && <SecretOnce created={created} info={info} connections={connections} onClose={() => setCreated(null)} />}
      {error && (
        <p className="error" role="alert">
          Could not load agents: {error}{' '}
          <button className="link" onClick={load}>
            Try again
          </button>
        </p>
      )}
      {!agents && !error && <p className="muted">Loading agents…</p>}
      {agents?.length === 0 && !creating && !created && (
        <div className="empty">
          <p>No agents yet.</p>
          <p className="muted">
            An agent is the identity an AI agent or bot logs in with. Use <strong>Create agent</strong>, then grant it a connection: it connects with
            its own secret and never sees the database password.
          </p>
        </div>
      )}
      {agents && agents.length > 0 && (
        <div className="split">
          <ul className="inbox" aria-label="Agents">
            {agents.map((a) => (
              <li key={a.id}>
                <button className={a.name === selected ? 'inbox-row selected' : 'inbox-row'} data-agent={a.name} aria-current={a.name === selected ? 'true' : undefined} onClick={() => setSelected(a.name)}>
                  <span className="inbox-who">{a.name}</span>
                  <span className="muted small">{a.disabled ? 'disabled' : ''}</span>
                  <span className="small">
                    {a.tags.map((t) => (
                      <span key={t} className="tag">
                        {t}
                      </span>
                    ))}
                  </span>
                </button>
              </li>
            ))}
          </ul>
          <div className="detail">
            {current ? (
              <AgentDetail
                key={current.id}
                agent={current}
                connections={connections}
                onRemoved={() => {
                  setSelected(null);
                  setCreated(null);
                  load();
                }}
                onChanged={(a) => setAgents((cur) => cur && cur.map((x) => (x.id === a.id ? a : x)))}
                onRotated={(r) => {
                  setCreated({ ...r, rotated: true });
                  window.scrollTo({ top: 0 });
                }}
              />
            ) : (
              <p className="muted">Select an agent to see and change its grants.</p>
            )}
          </div>
        </div>
      )}
    </section>
  );
}

function CreateAgentForm({ onCreated, onCancel }: { onCreated: (r: { agent: AgentDto; secret: string }) => void; onCancel: () => void }) {
  const client = useClient();
  const [name, setName] = useState('');
  const [tags, setTags] = useState('');
  const [sshKey, setSshKey] = useState('');
  const [busy, setBusy] = useState(false);
  const [errors, setErrors] = useState<{ message: string; fields: Record<string, string> } | null>(null);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setErrors(null);
    client.call('agents.add', { name, tags: parseTags(tags), ...(sshKey.trim() ? { sshPublicKey: sshKey.trim() } : {}) }).then(
      (r) => {
        setBusy(false);
        onCreated(r);
      },
      (err) => {
        setBusy(false);
        setErrors(formErrors(err));
      },
    );
  };
  return (
    <form className="card form" onSubmit={submit} aria-label="Create agent">
      <h2>Create agent</h2>
      <div className="form-grid">
        <label>
          Name
          <input name="name" value={name} onChange={(e) => setName(e.target.value)} required autoFocus placeholder="report-bot" />
          {errors?.fields.name && <span className="field-error">{errors.fields.name}</span>}
        </label>
        <label>
          Tags <span className="muted">(comma separated)</span>
          <input name="tags" value={tags} onChange={(e) => setTags(e.target.value)} placeholder="ai, reporting" />
          {errors?.fields.tags && <span className="field-error">{errors.fields.tags}</span>}
        </label>
        <label className="wide">
          SSH public key <span className="muted">(optional: lets the agent log in to SSH connections with its key)</span>
          <input name="sshPublicKey" value={sshKey} onChange={(e) => setSshKey(e.target.value)} placeholder="ssh-ed25519 AAAA… bot@host" spellCheck={false} />
        </label>
      </div>
      {errors && (
        <p className="error" role="alert">
          {errors.message}
        </p>
      )}
      <div className="actions">
        <button type="submit" className="primary" disabled={busy}>
          {busy ? 'Creating…' : 'Create agent'}
        </button>
        <button type="button" className="link" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}

function CopyButton({ text, label }: { text: string; label: string }) {
  const [state, setState] = useState<'idle' | 'copied' | 'failed'>('idle');
  const copy = () =>
    navigator.clipboard.writeText(text).then(
      () => setState('copied'),
      () => setState('failed'),
    );
  return (
    <button className="secondary slim copy" onClick={() => void copy()} aria-label={`Copy ${label}`}>
      {state === 'copied' ? 'Copied' : state === 'failed' ? 'Copy failed: select and copy' : 'Copy'}
    </button>
  );
}

function SecretOnce({ created, info, connections, onClose }: { created: { agent: AgentDto; secret: string; rotated?: boolean }; info: ServerInfoDto; connections: ConnectionDto[]; onClose: () => void }) {
  const [connName, setConnName] = useState(connections.find((c) => c.kind === 'postgres')?.name ?? connections[0]?.name ?? '');
  const connection = connections.find((c) => c.name === connName) ?? null;
  const snippets = useMemo(
    () => agentSnippets({ info, consoleHost: window.location.hostname, agent: created.agent.name, secret: created.secret, connection: connection && { name: connection.name, kind: connection.kind } }),
    [info, created, connection],
  );
  return (
    <div className="card secret-once" role="region" aria-label="New agent secret">
      <h2>
        {created.rotated ? `New secret for ${created.agent.name} — copy it now` : `${created.agent.name} created — copy its secret now`}
      </h2>
      <p className="muted">
        This is the only time the secret is shown. Gatehouse keeps only a verifier; if it is lost, rotate it again.
        {created.rotated ? ' The old secret no longer works, and sessions opened with it have ended.' : ''}
      </p>
      <div className="snippet">
        <div className="snippet-head">
          <span>Secret</span>
          <CopyButton text={created.secret} label="secret" />
        </div>
        <pre className="mono" data-snippet="secret">
          {created.secret}
        </pre>
      </div>
      {connections.length > 0 ? (
        <label className="inline-field">
          Snippets for connection
          <select value={connName} onChange={(e) => setConnName(e.target.value)} aria-label="Connection for the snippets">
            {connections.map((c) => (
              <option key={c.id} value={c.name}>
                {c.name} ({c.kind})
              </option>
            ))}
          </select>
          <span className="muted small">grant it below before the agent connects</span>
        </label>
      ) : (
        <p className="muted">Add a connection to get ready-to-paste snippets.</p>
      )}
      {connection &&
        snippets.map((s) => (
          <div className="snippet" key={s.id}>
            <div className="snippet-head">
              <span>{s.label}</span>
              <CopyButton text={s.text} label={s.label} />
            </div>
            <pre className="mono" data-snippet={s.id}>
              {s.text}
            </pre>
          </div>
        ))}
      <button className="secondary" onClick={onClose}>
        I have stored the secret
      </button>
    </div>
  );
}

function AgentDetail({
  agent,
  connections,
  onRemoved,
  onChanged,
  onRotated,
}: {
  agent: AgentDto;
  connections: ConnectionDto[];
  onRemoved: () => void;
  onChanged: (a: AgentDto) => void;
  onRotated: (r: { agent: AgentDto; secret: string }) => void;
}) {
  const client = useClient();
  const [grants, setGrants] = useState<GrantDto[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [confirm, setConfirm] = useState(false);
  const load = useCallback(() => {
    client.call('grants.list', { agent: agent.name, includeInactive: true }).then(setGrants, (err: Error) => setError(err.message));
  }, [client, agent.name]);
  useEffect(load, [load]);
  useEvent('grant.changed', (g) => g.agentName === agent.name && setGrants((cur) => (cur ? mergeGrant(cur, g) : cur)));
  const active = grants?.filter((g) => g.status === 'active') ?? [];
  const now = useNow(active.some((g) => g.expiresAt));

  const [connName, setConnName] = useState('');
  const [lifetime, setLifetime] = useState(1);
  const [busy, setBusy] = useState(false);
  const grant = (e: FormEvent) => {
    e.preventDefault();
    const seconds = GRANT_LIFETIMES[lifetime].seconds;
    setBusy(true);
    setError(null);
    client.call('grants.add', { agent: agent.name, connection: connName || connections[0].name, ...(seconds ? { expiresInSeconds: seconds } : {}) }).then(
      (g) => {
        setBusy(false);
        setGrants((cur) => mergeGrant(cur ?? [], g));
      },
      (err: Error) => {
        setBusy(false);
        setError(err.message);
      },
    );
  };
  const revoke = (g: GrantDto) =>
    client.call('grants.revoke', { id: g.id }).then(load, (err: Error) => setError(err.message));
  const remove = () => client.call('agents.remove', { name: agent.name }).then(onRemoved, (err: Error) => setError(err.message));

  return (
    <article aria-labelledby="agent-title">
      <header className="approval-head">
        <h2 id="agent-title">{agent.name}</h2>
        <span className="muted small">created {formatTime(agent.createdAt)}</span>
      </header>
      <p>
        {agent.tags.length ? (
          agent.tags.map((t) => (
            <span key={t} className="tag">
              {t}
            </span>
          ))
        ) : (
          <span className="muted">No tags.</span>
        )}
        {agent.disabled && <span className="badge bad">disabled: refused at login</span>}
      </p>
      <AgentControls agent={agent} onChanged={onChanged} onRotated={onRotated} />
      <h3 className="section-title">Grants</h3>
      <p className="small">
        <a href={`#/reviews?agent=${encodeURIComponent(agent.name)}`}>Review this agent&apos;s access…</a>
      </p>
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      {grants && grants.length === 0 && <p className="muted">No grants: this agent cannot connect anywhere yet. Grant a connection below.</p>}
      {grants && grants.length > 0 && (
        <table className="grid" aria-label={`Grants of ${agent.name}`}>
          <thead>
            <tr>
              <th>Connection</th>
              <th>Status</th>
              <th className="num">Time left</th>
              <th>Granted</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {grants.map((g) => {
              const status = grantStatusAt(g, now);
              return (
                <tr key={g.id} data-grant={g.connectionName}>
                  <td>{g.connectionName}</td>
                  <td>
                    <span className={`badge ${status === 'active' ? 'good' : ''}`}>{status}</span>
                  </td>
                  <td className="num">
                    {status !== 'active' ? (
                      <span className="muted">—</span>
                    ) : g.expiresAt ? (
                      <span className="countdown" title={`Expires ${formatTime(g.expiresAt)}`}>
                        {formatCountdown(Date.parse(g.expiresAt) - now)}
                      </span>
                    ) : (
                      'no expiry'
                    )}
                  </td>
                  <td>{formatTime(g.createdAt)}</td>
                  <td>
                    {status === 'active' && (
                      <button className="link danger-link" onClick={() => void revoke(g)}>
                        Revoke
                      </button>
                    )}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
      {connections.length > 0 ? (
        <form className="actions grant-form" onSubmit={grant} aria-label="Grant a connection">
          <select value={connName || connections[0].name} onChange={(e) => setConnName(e.target.value)} aria-label="Connection to grant">
            {connections.map((c) => (
              <option key={c.id} value={c.name}>
                {c.name}
              </option>
            ))}
          </select>
          <select value={lifetime} onChange={(e) => setLifetime(Number(e.target.value))} aria-label="Grant expires after">
            {GRANT_LIFETIMES.map((l, i) => (
              <option key={l.label} value={i}>
                {l.label}
              </option>
            ))}
          </select>
          <button type="submit" className="primary" disabled={busy}>
            Grant
          </button>
        </form>
      ) : (
        <p className="muted">
          Add a connection on the <a href="#/connections">Connections</a> screen to grant it.
        </p>
      )}
      <div className="actions danger-zone">
        {confirm ? (
          <>
            <button className="danger" onClick={() => void remove()} autoFocus>
              Remove {agent.name} and end its sessions
            </button>
            <button className="link" onClick={() => setConfirm(false)}>
              Keep
            </button>
          </>
        ) : (
          <button className="link danger-link" onClick={() => setConfirm(true)}>
            Remove agent…
          </button>
        )}
      </div>
    </article>
  );
}

/** Tags, disable/enable and secret rotation for one agent (agents.update, agents.rotate). */
function AgentControls({ agent, onChanged, onRotated }: { agent: AgentDto; onChanged: (a: AgentDto) => void; onRotated: (r: { agent: AgentDto; secret: string }) => void }) {
  const client = useClient();
  const [editing, setEditing] = useState(false);
  const [tags, setTags] = useState(agent.tags.join(', '));
  const [confirmRotate, setConfirmRotate] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const run = <T,>(p: Promise<T>, then: (v: T) => void) => {
    setBusy(true);
    setError(null);
    p.then(
      (v) => {
        setBusy(false);
        then(v);
      },
      (err: Error) => {
        setBusy(false);
        setError(err.message);
      },
    );
  };
  const saveTags = (e: FormEvent) => {
    e.preventDefault();
    run(client.call('agents.update', { name: agent.name, tags: parseTags(tags) }), (a) => {
      setEditing(false);
      onChanged(a);
    });
  };
  return (
    <div className="agent-controls">
      {editing ? (
        <form className="inline-form" onSubmit={saveTags}>
          <input value={tags} onChange={(e) => setTags(e.target.value)} aria-label="Tags (comma separated)" placeholder="reporting, eu" autoFocus />
          <button type="submit" className="primary slim" disabled={busy}>
            Save tags
          </button>
          <button type="button" className="link" onClick={() => (setEditing(false), setTags(agent.tags.join(', ')))}>
            Cancel
          </button>
        </form>
      ) : (
        <div className="actions">
          <button className="secondary slim" onClick={() => setEditing(true)}>
            Edit tags
          </button>
          <button className="secondary slim" disabled={busy} onClick={() => run(client.call('agents.update', { name: agent.name, disabled: !agent.disabled }), onChanged)}>
            {agent.disabled ? 'Enable' : 'Disable'}
          </button>
          {confirmRotate ? (
            <>
              <button className="danger" disabled={busy} autoFocus onClick={() => run(client.call('agents.rotate', { name: agent.name }), (r) => (setConfirmRotate(false), onRotated(r), onChanged(r.agent)))}>
                Rotate: the old secret stops working now
              </button>
              <button className="link" onClick={() => setConfirmRotate(false)}>
                Keep the secret
              </button>
            </>
          ) : (
            <button className="secondary slim" onClick={() => setConfirmRotate(true)}>
              Rotate secret…
            </button>
          )}
        </div>
      )}
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
    </div>
  );
}
