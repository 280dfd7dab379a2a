import type { SessionDto } from '../../../../shared/contract';

/** The Sessions screen's filters (all optional; empty strings mean "any"). */
export interface SessionFilter {
  agent: string;
  connection: string;
  decision: '' | 'blocked' | 'held' | 'masked' | 'errored';
  text: string;
}

export const NO_FILTER: SessionFilter = { agent: '', connection: '', decision: '', text: '' };

/** The sessions.list input for a filter (only the fields that are set). */
export function filterInput(f: SessionFilter): { agent?: string; connection?: string; decision?: Exclude<SessionFilter['decision'], ''>; text?: string } {
  return {
    ...(f.agent ? { agent: f.agent } : {}),
    ...(f.connection ? { connection: f.connection } : {}),
    ...(f.decision !== '' ? { decision: f.decision } : {}),
    ...(f.text.trim() ? { text: f.text.trim() } : {}),
  };
}

/**
 * Whether a session from a live event belongs in the filtered list: decided from its agent and connection;
 * 'unknown' when a decision or text filter is set (those look at statements the event does not carry).
 */
export function sessionMatches(f: SessionFilter, s: SessionDto): 'yes' | 'no' | 'unknown' {
  if ((f.agent && s.agentName !== f.agent) || (f.connection && s.connectionName !== f.connection)) return 'no';
  return f.decision || f.text.trim() ? 'unknown' : 'yes';
}
