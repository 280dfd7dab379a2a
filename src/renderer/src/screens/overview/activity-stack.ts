import type { ActivityRow } from './activity';

/**
 * uPlot data for the activity chart: x = hour starts in seconds (oldest first), and per agent the running
 * total of the agents before it plus its own (series are drawn as overlapping bars, tallest first, which
 * shows as a stack). `raw` keeps each agent's own figures for the legend.
 */
export function stackedSeries(agents: string[], rows: ActivityRow[], metric: 'sessions' | 'statements'): { x: number[]; stacked: number[][]; raw: number[][] } {
  const ordered = [...rows].sort((a, b) => a.hourStart - b.hourStart);
  const x = ordered.map((r) => r.hourStart / 1000);
  const raw = agents.map((a) => ordered.map((r) => r.byAgent[a]?.[metric] ?? 0));
  // Series i is the sum of agents i..n-1, so series 0 (drawn first) is the whole stack.
  const stacked = agents.map((_, i) => ordered.map((_r, k) => raw.slice(i).reduce((n, s) => n + s[k], 0)));
  return { x, stacked, raw };
}
