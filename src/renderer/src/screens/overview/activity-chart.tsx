import { useEffect, useMemo, useRef, useState } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import type { ActivityRow } from './activity';
import { stackedSeries } from './activity-stack';

// One colour per agent (cycled), readable on the dark panel.
const COUNT_STEPS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10_000, 20_000, 50_000, 100_000, 200_000, 500_000, 1_000_000];
const COLOURS = ['#4fb3ff', '#3fb950', '#d29922', '#a371f7', '#f778ba', '#56d4dd', '#ff7b72', '#e3b341', '#79c0ff', '#8b98a5'];

/**
 * Sessions or statements per hour, stacked by agent, drawn with uPlot (bars; hover shows each agent's own
 * figure). The table under it carries the same numbers for screen readers and copying.
 */
export function ActivityChart({ agents, rows }: { agents: string[]; rows: ActivityRow[] }) {
  const [metric, setMetric] = useState<'sessions' | 'statements'>('statements');
  const host = useRef<HTMLDivElement>(null);
  const data = useMemo(() => stackedSeries(agents, rows, metric), [agents, rows, metric]);
  const [width, setWidth] = useState(800);
  useEffect(() => {
    const el = host.current;
    if (!el) return;
    const ro = new ResizeObserver(() => setWidth(Math.max(320, Math.floor(el.clientWidth))));
    ro.observe(el);
    return () => ro.disconnect();
  }, []);
  useEffect(() => {
    const el = host.current;
    if (!el) return;
    const bars = uPlot.paths.bars!({ size: [0.7, 48], align: 0 });
    const raw = data.raw;
    const opts: uPlot.Options = {
      width,
      height: 220,
      cursor: { drag: { x: false, y: false }, points: { show: false } },
      legend: { live: true },
      // Half an hour of room on both sides, so the first and last hours' bars are whole.
      scales: { x: { time: true, range: (_u, min, max) => [min - 1800, max + 1800] }, y: { range: (_u, _min, max) => [0, Math.max(1, max * 1.1)] } },
      axes: [
        { stroke: '#8b98a5', grid: { stroke: '#2a3440', width: 1 }, ticks: { stroke: '#2a3440' } },
        // Whole numbers only: these are counts.
        { stroke: '#8b98a5', grid: { stroke: '#2a3440', width: 1 }, ticks: { stroke: '#2a3440' }, size: 56, incrs: COUNT_STEPS },
      ],
      series: [
        { label: 'Hour', value: (_u, v) => (v == null ? '—' : new Date(v * 1000).toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' })) },
        // Drawn from the full stack down, so each agent's band shows on top of the ones below it.
        ...agents.map((a, i) => ({
          label: a,
          stroke: COLOURS[i % COLOURS.length],
          fill: COLOURS[i % COLOURS.length] + 'cc',
          width: 0,
          paths: bars,
          points: { show: false },
          value: (_u: uPlot, _v: number | null, _s: number, idx: number | null) => (idx == null ? '—' : String(raw[i][idx] ?? 0)),
        })),
      ],
    };
    const u = new uPlot(opts, [data.x, ...data.stacked] as uPlot.AlignedData, el);
    return () => u.destroy();
  }, [data, agents, width]);

  const total = rows.reduce((n, r) => n + r[metric], 0);
  return (
    <div className="activity-chart">
      <div className="segmented" role="radiogroup" aria-label="Chart shows">
        {(['statements', 'sessions'] as const).map((m) => (
          <button key={m} role="radio" aria-checked={metric === m} className={metric === m ? 'on' : ''} onClick={() => setMetric(m)}>
            {m === 'sessions' ? 'Sessions' : 'Statements'}
          </button>
        ))}
      </div>
      <div ref={host} className="chart-host" role="img" aria-label={`${metric === 'sessions' ? 'Sessions' : 'Statements'} per hour by agent: ${total.toLocaleString()} in ${rows.length} hours (the table below has the figures).`} />
    </div>
  );
}
