import { useCallback, useEffect, useRef, useState } from 'react';
import type { AgentDto, CommandOutput, ConnectionDto, PolicyCheckResult } from '../../../../shared/contract';
import { SqlCode } from '../../components/sql-code';
import { useClient, useEvent } from '../../contract-client/client-context';
import { formatTime } from '../../format';
import { PolicyHistory } from './policy-history';
import { offsetOf, policyFileName } from './text-position';

type Loaded = CommandOutput<'policy.get'>;
type Problem = { line: number; column: number; path: string; message: string };
type Validation = { state: 'idle' | 'checking' | 'valid' | 'invalid' | 'error'; errors: Problem[]; message?: string };

const VALIDATE_DELAY_MS = 250;

/**
 * Policy: the YAML policy file in an editor, validated as you type (policy.validate; nothing is applied
 * until Save), a "try it" box that decides a statement under the policy in force, and import/export.
 */
export function PolicyScreen() {
  const client = useClient();
  const [loaded, setLoaded] = useState<Loaded | null>(null);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [text, setText] = useState('');
  const [validation, setValidation] = useState<Validation>({ state: 'idle', errors: [] });
  const [saving, setSaving] = useState(false);
  const [saveError, setSaveError] = useState<string | null>(null);
  const [saved, setSaved] = useState<number | null>(null);
  const [newer, setNewer] = useState<number | null>(null);
  const editor = useRef<HTMLTextAreaElement>(null);
  const dirty = loaded !== null && text !== loaded.yaml;

  const load = useCallback(() => {
    setLoadError(null);
    client.call('policy.get', {}).then(
      (p) => {
        setLoaded(p);
        setText(p.yaml);
        setNewer(null);
      },
      (err: Error) => setLoadError(err.message),
    );
  }, [client]);
  useEffect(load, [load]);
  useEvent('policy.changed', (v) => {
    if (loaded && v.version === loaded.version) return;
    if (dirty) setNewer(v.version);
    else load();
  });

  // Validate as you type: one request per pause, and only the answer for the latest text counts.
  const seq = useRef(0);
  const ready = loaded !== null;
  useEffect(() => {
    if (!ready) return;
    const mine = ++seq.current;
    setValidation((v) => ({ ...v, state: 'checking' }));
    const timer = setTimeout(() => {
      client.call('policy.validate', { yaml: text }).then(
        (r) => mine === seq.current && setValidation({ state: r.errors.length ? 'invalid' : 'valid', errors: r.errors }),
        (err: Error) => mine === seq.current && setValidation({ state: 'error', errors: [], message: err.message }),
      );
    }, VALIDATE_DELAY_MS);
    return () => clearTimeout(timer);
  }, [client, text, ready]);

  const save = () => {
    setSaving(true);
    setSaveError(null);
    client.call('policy.apply', { yaml: text }).then(
      (v) => {
        setSaving(false);
        setSaved(v.version);
        setLoaded({ ...v, yaml: text });
        setNewer(null);
      },
      (err: Error) => {
        setSaving(false);
        setSaveError(err.message);
      },
    );
  };
  const goTo = (p: Problem) => {
    const el = editor.current;
    if (!el) return;
    const at = offsetOf(text, p.line, p.column);
    el.focus();
    el.setSelectionRange(at, at);
  };
  const exportFile = () => {
    const url = URL.createObjectURL(new Blob([text], { type: 'application/yaml' }));
    const a = document.createElement('a');
    a.href = url;
    a.download = policyFileName(loaded?.version ?? 0);
    a.click();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
  };
  const importFile = (file: File | undefined) => {
    if (!file) return;
    void file.text().then((t) => setText(t));
  };
  const lines = text.split('\n').length;

  return (
    <section className="screen" aria-labelledby="policy-title">
      <header className="screen-header">
        <h1 id="policy-title">Policy</h1>
        {loaded && (
          <span className="muted">
            {loaded.version === 0 ? 'No policy applied yet (everything allowed)' : `Version ${loaded.version}, applied ${loaded.appliedAt ? formatTime(loaded.appliedAt) : ''} by ${loaded.appliedBy ?? '?'}`}
          </span>
        )}
        <span className="push-right toolbar">
          <label className="secondary slim file-button">
            Import…
            <input type="file" accept=".yaml,.yml,.json,text/yaml" onChange={(e) => (importFile(e.target.files?.[0]), (e.target.value = ''))} aria-label="Import a policy file" />
          </label>
          <button className="secondary slim" onClick={exportFile} disabled={!loaded}>
            Export
          </button>
        </span>
      </header>
      {loadError && (
        <p className="error" role="alert">
          Could not load the policy: {loadError}{' '}
          <button className="link" onClick={load}>
            Try again
          </button>
        </p>
      )}
      {!loaded && !loadError && <p className="muted">Loading the policy…</p>}
      {loaded && (
        <div className="policy-layout">
          <div className="policy-editor">
            {newer !== null && (
              <p className="banner" role="status">
                Version {newer} was applied elsewhere while you edit.{' '}
                <button className="link" onClick={load}>
                  Discard my changes and load it
                </button>
              </p>
            )}
            <div className="editor-frame">
              <pre className="gutter" aria-hidden="true">
                {Array.from({ length: lines }, (_, i) => i + 1).join('\n')}
              </pre>
              <textarea
                ref={editor}
                className="code-editor"
                value={text}
                onChange={(e) => setText(e.target.value)}
                onScroll={(e) => {
                  const g = e.currentTarget.previousElementSibling as HTMLElement | null;
                  if (g) g.scrollTop = e.currentTarget.scrollTop;
                }}
                spellCheck={false}
                aria-label="Policy file (YAML)"
                aria-invalid={validation.state === 'invalid'}
                aria-describedby="policy-validation"
                rows={24}
              />
            </div>
            <div id="policy-validation" className="validation" aria-live="polite">
              {validation.state === 'checking' && <span className="muted">Checking…</span>}
              {validation.state === 'valid' && <span className="good-text">✓ Valid policy{dirty ? ' — not applied yet' : ''}</span>}
              {validation.state === 'error' && <span className="error">Could not validate: {validation.message}</span>}
              {validation.state === 'invalid' && (
                <>
                  <span className="error">
                    {validation.errors.length} problem{validation.errors.length === 1 ? '' : 's'}
                  </span>
                  <ul className="problems">
                    {validation.errors.map((p, i) => (
                      <li key={i}>
                        <button className="link" onClick={() => goTo(p)}>
                          line {p.line}, column {p.column}
                        </button>{' '}
                        <code>{p.path || '(file)'}</code>: {p.message}
                      </li>
                    ))}
                  </ul>
                </>
              )}
            </div>
            <div className="actions">
              <button className="primary" onClick={save} disabled={saving || !dirty || validation.state === 'invalid'}>
                {saving ? 'Applying…' : 'Save and apply'}
              </button>
              <button className="link" onClick={() => setText(loaded.yaml)} disabled={!dirty}>
                Revert
              </button>
              {saved !== null && !dirty && (
                <span className="good-text" role="status">
                  Applied as version {saved}. Open sessions use it from their next statement.
                </span>
              )}
            </div>
            {saveError && (
              <p className="error" role="alert">
                {saveError}
              </p>
            )}
          </div>
          <div className="policy-side">
            <TryIt version={loaded.version} />
            <PolicyHistory />
          </div>
        </div>
      )}
    </section>
  );
}

const ACTION_CLASS: Record<PolicyCheckResult['action'], string> = { allow: 'good', approve: 'held', block: 'blocked' };

function TryIt({ version }: { version: number }) {
  const client = useClient();
  const [connections, setConnections] = useState<ConnectionDto[]>([]);
  const [agents, setAgents] = useState<AgentDto[]>([]);
  const [connection, setConnection] = useState('');
  const [agent, setAgent] = useState('');
  const [sql, setSql] = useState('DELETE FROM orders WHERE id = 1');
  const [result, setResult] = useState<PolicyCheckResult | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    Promise.all([client.call('connections.list', {}), client.call('agents.list', {})]).then(
      ([c, a]) => {
        setConnections(c);
        setAgents(a);
        setConnection((cur) => cur || (c.find((x) => x.kind === 'postgres')?.name ?? ''));
        setAgent((cur) => cur || (a[0]?.name ?? ''));
      },
      (err: Error) => setError(err.message),
    );
  }, [client]);
  const check = () => {
    setBusy(true);
    setError(null);
    client.call('policy.check', { connection, agent, sql }).then(
      (r) => {
        setBusy(false);
        setResult(r);
      },
      (err: Error) => {
        setBusy(false);
        setError(err.message);
      },
    );
  };
  const ready = connection && agent && sql.trim();
  return (
    <aside className="card try-it" aria-labelledby="try-title">
      <h2 id="try-title">Try it</h2>
      <p className="muted small">What the policy in force (version {version}) does with a statement. Save first to try your edits.</p>
      {connections.length === 0 || agents.length === 0 ? (
        <p className="muted">Add a connection and an agent to try statements against them.</p>
      ) : (
        <>
          <div className="form-grid two">
            <label>
              Connection
              <select value={connection} onChange={(e) => setConnection(e.target.value)} aria-label="Connection to check against">
                {connections
                  .filter((c) => c.kind === 'postgres')
                  .map((c) => (
                    <option key={c.id}>{c.name}</option>
                  ))}
              </select>
            </label>
            <label>
              Agent
              <select value={agent} onChange={(e) => setAgent(e.target.value)} aria-label="Agent to check as">
                {agents.map((a) => (
                  <option key={a.id}>{a.name}</option>
                ))}
              </select>
            </label>
          </div>
          <label className="stacked">
            SQL
            <textarea
              value={sql}
              onChange={(e) => setSql(e.target.value)}
              rows={4}
              spellCheck={false}
              aria-label="SQL to check"
              onKeyDown={(e) => e.key === 'Enter' && (e.ctrlKey || e.metaKey) && ready && (e.preventDefault(), check())}
            />
          </label>
          <div className="actions">
            <button className="primary" onClick={check} disabled={!ready || busy}>
              {busy ? 'Checking…' : 'Check'}
            </button>
            <span className="muted small">
              <kbd>Ctrl</kbd>+<kbd>Enter</kbd>
            </span>
          </div>
        </>
      )}
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      {result && (
        <div className="check-result" role="status" aria-label="Decision">
          <p>
            <span className={`badge big ${ACTION_CLASS[result.action]}`} data-decision={result.action}>
              {result.action}
            </span>{' '}
            {result.rule ? (
              <>
                rule <code data-rule>{result.rule}</code>
              </>
            ) : (
              <span className="muted">no rule matched</span>
            )}
          </p>
          <p className="muted">{result.message}</p>
          {result.parseError && <p className="error">Parse error: {result.parseError}</p>}
          {result.statements.map((s, i) => (
            <div key={i} className="statement-summary">
              <SqlCode sql={s.summary} />
              <dl className="facts small">
                <dt>Kinds</dt>
                <dd>{s.kinds.join(', ') || s.kind}</dd>
                {s.tablesRead.length > 0 && (
                  <>
                    <dt>Reads</dt>
                    <dd className="mono">{s.tablesRead.join(', ')}</dd>
                  </>
                )}
                {s.tablesWritten.length > 0 && (
                  <>
                    <dt>Writes</dt>
                    <dd className="mono">{s.tablesWritten.join(', ')}</dd>
                  </>
                )}
                {s.functions.length > 0 && (
                  <>
                    <dt>Functions</dt>
                    <dd className="mono">{s.functions.join(', ')}</dd>
                  </>
                )}
              </dl>
            </div>
          ))}
        </div>
      )}
    </aside>
  );
}
