import { useState } from 'react';
import type { EvidenceExportResult, EvidenceProgressDto } from '../../../../shared/contract';
import { useClient, useEvent } from '../../contract-client/client-context';
import { formatBytes } from '../../format';

const PERIODS = [
  { label: 'last 24 hours', ms: 86_400_000 },
  { label: 'last 7 days', ms: 7 * 86_400_000 },
  { label: 'last 30 days', ms: 30 * 86_400_000 },
  { label: 'last 90 days', ms: 90 * 86_400_000 },
];

const newExportId = () => `console-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 10)}`;

/**
 * Export a signed evidence pack (docs/evidence.md) for a period, scoped to the Sessions screen's agent and
 * connection filters, with progress from evidence.progress events. The pack is written on the gateway's
 * machine (its data dir's exports/ folder); the console shows where.
 */
export function EvidenceExport({ agent, connection }: { agent: string; connection: string }) {
  const client = useClient();
  const [open, setOpen] = useState(false);
  const [period, setPeriod] = useState(1);
  const [running, setRunning] = useState<string | null>(null);
  const [progress, setProgress] = useState<EvidenceProgressDto | null>(null);
  const [result, setResult] = useState<EvidenceExportResult | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEvent('evidence.progress', (p) => p.exportId === running && setProgress(p));

  const start = () => {
    const exportId = newExportId();
    const end = Date.now();
    setRunning(exportId);
    setProgress(null);
    setResult(null);
    setError(null);
    client
      .call('evidence.export', {
        periodStart: new Date(end - PERIODS[period].ms).toISOString(),
        periodEnd: new Date(end).toISOString(),
        agents: agent ? [agent] : [],
        connections: connection ? [connection] : [],
        exportId,
      })
      .then(setResult, (err: Error) => setError(err.message))
      .finally(() => setRunning(null));
  };

  if (!open)
    return (
      <button className="secondary slim push-right" onClick={() => setOpen(true)}>
        Export evidence…
      </button>
    );
  return (
    <div className="card evidence" role="region" aria-label="Export evidence pack">
      <div className="actions">
        <strong>Evidence pack</strong>
        <select value={period} onChange={(e) => setPeriod(Number(e.target.value))} aria-label="Period" disabled={running !== null}>
          {PERIODS.map((p, i) => (
            <option key={p.label} value={i}>
              {p.label}
            </option>
          ))}
        </select>
        <span className="muted small">
          {agent || connection ? `scope: ${[agent && `agent ${agent}`, connection && `connection ${connection}`].filter(Boolean).join(', ')}` : 'all agents and connections'}
        </span>
        <button className="primary" onClick={start} disabled={running !== null}>
          {running ? 'Exporting…' : 'Export'}
        </button>
        <button className="link" onClick={() => setOpen(false)} disabled={running !== null}>
          Close
        </button>
      </div>
      {running && (
        <div className="progress-line" role="status" aria-live="polite">
          <progress max={progress?.total || 1} value={progress ? progress.done : undefined} />
          <span className="muted small">{progress ? `${progress.phase} ${progress.done}/${progress.total}` : 'starting…'}</span>
        </div>
      )}
      {result && (
        <p className="good-text" role="status">
          Written {formatBytes(result.bytes)}, {result.files} files: <code>{result.path}</code> (manifest SHA-256 <code>{result.manifestSha256.slice(0, 16)}…</code>). Check it
          offline with <code>gatehouse verify</code>.
        </p>
      )}
      {error && (
        <p className="error" role="alert">
          Export failed: {error}
        </p>
      )}
    </div>
  );
}
