const DAY = 86_400_000;

/** How a certificate's expiry reads on the settings screen: days left, soon (under 30 days) or expired. */
export function certificateState(validTo: string, now: number): { level: 'ok' | 'soon' | 'expired'; text: string } {
  const left = Date.parse(validTo) - now;
  if (!(left > 0)) return { level: 'expired', text: 'expired' };
  const days = Math.floor(left / DAY);
  if (days < 30) return { level: 'soon', text: days === 0 ? 'expires today' : `expires in ${days} day${days === 1 ? '' : 's'}` };
  return { level: 'ok', text: `${days} days left` };
}
