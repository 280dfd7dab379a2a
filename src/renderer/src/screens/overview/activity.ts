import type { SessionDto } from '../../../../shared/contract';

const HOUR = 3_600_000;

/** One row of the activity table: an hour (start, ms) and per agent the sessions started and statements run. */
export interface ActivityRow {
  hourStart: number;
  byAgent: Record<string, { sessions: number; statements: number }>;
  sessions: number;
  statements: number;
}

/**
 * Sessions and statements per hour by agent over the last `hours` hours (newest hour first), from a list
 * of sessions. A session counts in the hour it started, with all its statements (sessions are short next
 * to an hour; a long one is attributed to its start). Hours without activity are kept, so the table does
 * not jump as hours fill in.
 */
export function activityByHour(sessions: SessionDto[], now: number, hours: number): { agents: string[]; rows: ActivityRow[] } {
  const currentHour = Math.floor(now / HOUR) * HOUR;
  const first = currentHour - (hours - 1) * HOUR;
  const rows: ActivityRow[] = Array.from({ length: hours }, (_, i) => ({ hourStart: currentHour - i * HOUR, byAgent: {}, sessions: 0, statements: 0 }));
  const agents = new Set<string>();
  for (const s of sessions) {
    const t = Date.parse(s.startedAt);
    if (!(t >= first && t < currentHour + HOUR)) continue;
    const row = rows[(currentHour - Math.floor(t / HOUR) * HOUR) / HOUR];
    const cell = (row.byAgent[s.agentName] ??= { sessions: 0, statements: 0 });
    cell.sessions++;
    cell.statements += s.statementCount;
    row.sessions++;
    row.statements += s.statementCount;
    agents.add(s.agentName);
  }
  return { agents: [...agents].sort(), rows };
}
