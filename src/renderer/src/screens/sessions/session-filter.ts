import type { SessionDto } from '../../../../shared/contract';

/** The Sessions screen's filters (all optional; empty strings mean "any"). */
export interface SessionFilter {
  agent: string;
  connection: string;
  decision: '' | 'blocked' | 'held' | 'masked' | 'errored';
  text: string;
  /** Started at or after / before: `<input type="datetime-local">` values (local time), '' = open. */
  from?: string;
  to?: string;
}

export const NO_FILTER: SessionFilter = { agent: '', connection: '', decision: '', text: '', from: '', to: '' };

/** A datetime-local value as an ISO instant; undefined when empty or not a date. */
export function localToIso(value: string | undefined): string | undefined {
  if (!value) return undefined;
  const ms = new Date(value).getTime();
  return Number.isFinite(ms) ? new Date(ms).toISOString() : undefined;
}

/** The sessions.list input for a filter (only the fields that are set). */
export function filterInput(f: SessionFilter): {
  agent?: string;
  connection?: string;
  decision?: Exclude<SessionFilter['decision'], ''>;
  text?: string;
  from?: string;
  to?: string;
} {
  const from = localToIso(f.from);
  const to = localToIso(f.to);
  return {
    ...(f.agent ? { agent: f.agent } : {}),
    ...(f.connection ? { connection: f.connection } : {}),
    ...(f.decision !== '' ? { decision: f.decision } : {}),
    ...(f.text.trim() ? { text: f.text.trim() } : {}),
    ...(from ? { from } : {}),
    ...(to ? { to } : {}),
  };
}

/**
 * Whether a session from a live event belongs in the filtered list: decided from its agent, connection and
 * start time; 'unknown' when a decision or text filter is set (those look at statements the event does not carry).
 */
export function sessionMatches(f: SessionFilter, s: SessionDto): 'yes' | 'no' | 'unknown' {
  if ((f.agent && s.agentName !== f.agent) || (f.connection && s.connectionName !== f.connection)) return 'no';
  const started = Date.parse(s.startedAt);
  const from = localToIso(f.from);
  const to = localToIso(f.to);
  if ((from && started < Date.parse(from)) || (to && started >= Date.parse(to))) return 'no';
  return f.decision || f.text.trim() ? 'unknown' : 'yes';
}
