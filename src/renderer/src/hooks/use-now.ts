import { useEffect, useState } from 'react';

/**
 * The current time in ms, re-read every `intervalMs` while `active` (e.g. to tick the duration of live
 * sessions). A local clock for display only; data still arrives by events, never by polling.
 */
export function useNow(active: boolean, intervalMs = 1000): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (!active) return;
    setNow(Date.now());
    const timer = setInterval(() => setNow(Date.now()), intervalMs);
    return () => clearInterval(timer);
  }, [active, intervalMs]);
  return now;
}
