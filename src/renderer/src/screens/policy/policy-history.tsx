import { useCallback, useEffect, useState } from 'react';
import type { CommandOutput } from '../../../../shared/contract';
import { useClient, useEvent } from '../../contract-client/client-context';
import { formatTime } from '../../format';

type Version = CommandOutput<'policy.history'>[number];
type Diff = CommandOutput<'policy.diff'>;

/** How many versions the history lists. */
const HISTORY_LIMIT = 50;

/** The class of one unified-diff line, for colouring. */
export function diffLineClass(line: string): string {
  if (line.startsWith('+++') || line.startsWith('---') || line.startsWith('===') || line.startsWith('Index:')) return 'diff-file';
  if (line.startsWith('@@')) return 'diff-hunk';
  if (line.startsWith('+')) return 'diff-add';
  if (line.startsWith('-')) return 'diff-del';
  return 'diff-context';
}

/**
 * Every applied version of the policy, newest first, with who applied it and how many lines it changed;
 * each opens as the unified diff against the version before it (the same before/after the
 * `policy.applied` audit event keeps). Refreshes when a version is applied anywhere.
 */
export function PolicyHistory() {
  const client = useClient();
  const [versions, setVersions] = useState<Version[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [open, setOpen] = useState<number | null>(null);
  const [diff, setDiff] = useState<Diff | null>(null);
  const [diffError, setDiffError] = useState<string | null>(null);

  const load = useCallback(() => {
    client.call('policy.history', { limit: HISTORY_LIMIT }).then(
      (v) => {
        setVersions(v);
        setError(null);
      },
      (err: Error) => setError(err.message),
    );
  }, [client]);
  useEffect(load, [load]);
  useEvent('policy.changed', load);

  const toggle = (version: number) => {
    if (open === version) {
      setOpen(null);
      return;
    }
    setOpen(version);
    setDiff(null);
    setDiffError(null);
    client.call('policy.diff', { to: version }).then(setDiff, (err: Error) => setDiffError(err.message));
  };

  return (
    <section className="card policy-history" aria-labelledby="policy-history-title">
      <h2 id="policy-history-title">History</h2>
      {error && (
        <p className="error" role="alert">
          Could not load the history: {error}{' '}
          <button className="link" onClick={load}>
            Try again
          </button>
        </p>
      )}
      {versions === null && !error && <p className="muted">Loading…</p>}
      {versions?.length === 0 && <p className="muted">No version applied yet. Save the policy to create version 1.</p>}
      {versions && versions.length > 0 && (
        <ul className="plain-list history-list">
          {versions.map((v) => (
            <li key={v.version}>
              <button className="link history-row" aria-expanded={open === v.version} onClick={() => toggle(v.version)}>
                <strong>v{v.version}</strong> <span className="muted">{v.appliedAt ? formatTime(v.appliedAt) : ''}</span> by {v.appliedBy ?? '?'}{' '}
                <span className="diff-add-text">+{v.linesAdded}</span> <span className="diff-del-text">−{v.linesRemoved}</span>
              </button>
              {open === v.version && (
                <div className="policy-diff" aria-label={`Changes in version ${v.version}`}>
                  {diffError && <p className="error">{diffError}</p>}
                  {!diff && !diffError && <p className="muted">Loading the changes…</p>}
                  {diff && !diff.patch && <p className="muted">Same text as version {diff.from}.</p>}
                  {diff?.patch && (
                    <pre className="diff">
                      {diff.patch
                        .split('\n')
                        .filter((l) => l !== '')
                        .map((l, i) => (
                          <div key={i} className={diffLineClass(l)}>
                            {l}
                          </div>
                        ))}
                    </pre>
                  )}
                  {diff?.truncated && <p className="muted small">The diff is cut here; export both versions with the CLI to compare them whole.</p>}
                </div>
              )}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
