import { reviewProgress } from './review-model';

/** A review's decided/total as a bar with its numbers; a real progressbar for assistive technology. */
export function ReviewProgress({ decided, total, big, label }: { decided: number; total: number; big?: boolean; label: string }) {
  const p = reviewProgress({ decided, total });
  return (
    <div className={`review-progress${big ? ' big' : ''}${p.decided >= p.total ? ' done' : ''}`}>
      <div
        className="bar"
        role="progressbar"
        aria-label={label}
        aria-valuemin={0}
        aria-valuemax={total}
        aria-valuenow={decided}
        aria-valuetext={`${decided} of ${total} decided (${p.percent}%)`}
      >
        <div className="fill" style={{ width: `${p.percent}%` }} />
      </div>
      <span className="label">
        {decided}/{total} · {p.percent}%
      </span>
    </div>
  );
}
