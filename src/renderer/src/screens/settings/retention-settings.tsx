import { useCallback, useEffect, useState } from 'react';
import type { CommandOutput, SettingsDto } from '../../../../shared/contract';
import { useClient, useEvent } from '../../contract-client/client-context';
import { formatTime } from '../../format';

type Purge = CommandOutput<'recordings.purge'>;

/** The form's text for a retention: days, or '' for "keep forever". */
export const retentionInput = (days: number | null): string => (days === null ? '' : String(days));

/** Parse the form: '' keeps forever (null); otherwise whole days 1..36500, else an error message. */
export function parseRetentionInput(text: string): { ok: true; days: number | null } | { ok: false; message: string } {
  const t = text.trim();
  if (t === '') return { ok: true, days: null };
  if (!/^\d+$/.test(t)) return { ok: false, message: 'Enter a whole number of days, or leave it empty to keep recordings forever.' };
  const n = Number(t);
  if (n < 1 || n > 36_500) return { ok: false, message: 'Between 1 and 36500 days.' };
  return { ok: true, days: n };
}

/**
 * Recording retention: how many days recordings are kept after a session ends (empty = forever), with a
 * preview of what the new value would remove before it is saved, and "remove now". Session rows, counts
 * and the audit trail are always kept; each removal is an audit event.
 */
export function RetentionSettings() {
  const client = useClient();
  const [current, setCurrent] = useState<SettingsDto | null>(null);
  const [text, setText] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<Purge | null>(null);
  const [due, setDue] = useState<Purge | null>(null);

  const refreshDue = useCallback(() => {
    client.call('recordings.purge', { dryRun: true }).then(setDue, () => setDue(null));
  }, [client]);
  const load = useCallback(() => {
    client.call('settings.get', {}).then(
      (s) => {
        setCurrent(s);
        setText(retentionInput(s.recordingRetentionDays));
        setError(null);
      },
      (err: Error) => setError(err.message),
    );
    refreshDue();
  }, [client, refreshDue]);
  useEffect(load, [load]);
  useEvent('settings.changed', (s) => {
    setCurrent(s);
    setText(retentionInput(s.recordingRetentionDays));
    refreshDue();
  });

  const parsed = parseRetentionInput(text);
  const dirty = current !== null && parsed.ok && parsed.days !== current.recordingRetentionDays;
  const save = () => {
    if (!parsed.ok) return;
    setBusy(true);
    setResult(null);
    client.call('settings.update', { recordingRetentionDays: parsed.days }).then(
      (s) => {
        setBusy(false);
        setCurrent(s);
        setError(null);
        refreshDue();
      },
      (err: Error) => {
        setBusy(false);
        setError(err.message);
      },
    );
  };
  const purgeNow = () => {
    setBusy(true);
    client.call('recordings.purge', {}).then(
      (r) => {
        setBusy(false);
        setResult(r);
        refreshDue();
      },
      (err: Error) => {
        setBusy(false);
        setError(err.message);
      },
    );
  };

  return (
    <section className="card panel" aria-labelledby="set-retention">
      <h2 id="set-retention">Recording retention</h2>
      <p className="muted small">
        Recordings (PostgreSQL statements, SSH terminal recordings) of sessions that ended longer ago are removed every hour. Who connected where and when, the counts,
        approvals and the audit trail are kept; every removal is an audit event, so <code>gatehouse audit verify</code> still passes.
      </p>
      <div className="retention-form">
        <label>
          Keep recordings for{' '}
          <input
            className="days-input"
            inputMode="numeric"
            value={text}
            onChange={(e) => setText(e.target.value)}
            onKeyDown={(e) => e.key === 'Enter' && dirty && save()}
            placeholder="forever"
            aria-label="Recording retention in days (empty keeps them forever)"
            aria-invalid={!parsed.ok}
          />{' '}
          days
        </label>
        <button className="primary slim" onClick={save} disabled={busy || !dirty}>
          Save
        </button>
        {current?.recordingRetentionDays !== null && current !== null && (
          <button className="secondary slim" onClick={purgeNow} disabled={busy || !due || due.sessions === 0}>
            Remove due recordings now
          </button>
        )}
      </div>
      {!parsed.ok && <p className="error">{parsed.message}</p>}
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      <p className="small" role="status" aria-label="Retention status">
        {current === null
          ? 'Loading…'
          : current.recordingRetentionDays === null
            ? 'Off: recordings are kept until you set a retention.'
            : `${current.recordingRetentionDays} day(s)${current.updatedBy ? `, set ${current.updatedAt ? formatTime(current.updatedAt) : ''} by ${current.updatedBy}` : ''}. ${
                due ? (due.sessions ? `${due.sessions} session(s) with ${due.statements} statement(s) are due for removal.` : 'Nothing is due for removal.') : ''
              }`}
      </p>
      {result && (
        <p className="good-text small" role="status">
          Removed the recordings of {result.sessions} session(s): {result.statements} statement(s), {result.files} terminal recording file(s).
        </p>
      )}
    </section>
  );
}
