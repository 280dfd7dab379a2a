/**
 * Decides whether a link may leave the app for the user's browser: https only, no embedded credentials.
 * Returns the normalised URL to open, or null to drop it.
 */
export function checkExternalUrl(url: string): string | null {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return null;
  }
  if (u.protocol !== 'https:' || u.username || u.password || !u.hostname) return null;
  return u.toString();
}
