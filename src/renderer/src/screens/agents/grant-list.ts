import type { GrantDto } from '../../../../shared/contract';

/** A grant list with one changed grant (grant.changed event) merged in: replaced by id, or added on top. */
export function mergeGrant(items: GrantDto[], g: GrantDto): GrantDto[] {
  const i = items.findIndex((x) => x.id === g.id);
  if (i < 0) return [g, ...items];
  const next = items.slice();
  next[i] = g;
  return next;
}

/** The grant's status at `now`: an active grant whose expiry has passed shows as expired without a reload. */
export function grantStatusAt(g: GrantDto, now: number): GrantDto['status'] {
  if (g.status === 'active' && g.expiresAt && Date.parse(g.expiresAt) <= now) return 'expired';
  return g.status;
}

/** Expiry choices for a new grant, in seconds (null = no expiry). */
export const GRANT_LIFETIMES: { label: string; seconds: number | null }[] = [
  { label: '1 hour', seconds: 3600 },
  { label: '2 hours', seconds: 7200 },
  { label: '8 hours', seconds: 8 * 3600 },
  { label: '1 day', seconds: 86_400 },
  { label: '7 days', seconds: 7 * 86_400 },
  { label: '30 days', seconds: 30 * 86_400 },
  { label: 'no expiry', seconds: null },
];
