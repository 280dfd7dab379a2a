import type { SessionDto } from '../../../../shared/contract';

/**
 * Combines what we know about one session with a newer report of it. Events and list snapshots can
 * arrive out of order, but an ended session never becomes live again, and counters never go backwards.
 */
export function mergeSession(known: SessionDto, incoming: SessionDto): SessionDto {
  if (known.endedAt && !incoming.endedAt) return known;
  return {
    ...incoming,
    bytesIn: Math.max(known.bytesIn, incoming.bytesIn),
    bytesOut: Math.max(known.bytesOut, incoming.bytesOut),
    statementCount: Math.max(known.statementCount, incoming.statementCount),
  };
}
