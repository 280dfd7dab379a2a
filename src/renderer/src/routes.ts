/**
 * The console's screens and its URL scheme. Routes live in the location hash (`#/sessions/<id>`) so deep
 * links work the same from file:// in the desktop app and from `gatehouse serve` in a browser.
 */
export const SCREENS = [
  { id: 'overview', label: 'Overview' },
  { id: 'connections', label: 'Connections' },
  { id: 'agents', label: 'Agents' },
  { id: 'policy', label: 'Policy' },
  { id: 'approvals', label: 'Approvals' },
  { id: 'sessions', label: 'Sessions' },
  { id: 'reviews', label: 'Reviews' },
  { id: 'settings', label: 'Settings' },
] as const;

export type ScreenId = (typeof SCREENS)[number]['id'];

/** A place in the console: a screen and, for screens with details, the selected item. */
export interface Route {
  screen: ScreenId;
  id?: string;
  /** Deep-link parameters after `?` (e.g. a session page's `t` or `seq`). */
  query?: Record<string, string>;
}

/** Where the console opens when the URL names no screen. */
export const HOME: Route = { screen: 'overview' };

/** Whether a string names a screen (menu items and hashes come from outside the type system). */
export function isScreen(s: string): s is ScreenId {
  return SCREENS.some((x) => x.id === s);
}

/** Read a route from a location hash; anything unknown falls back to HOME. */
export function parseRoute(hash: string): Route {
  const [path, search] = hash.replace(/^#\/?/, '').split('?', 2);
  const [screen, id] = path.split('/');
  if (!screen || !isScreen(screen)) return HOME;
  const query = search ? Object.fromEntries(new URLSearchParams(search)) : {};
  return { screen, ...(id ? { id: decodeURIComponent(id) } : {}), ...(Object.keys(query).length ? { query } : {}) };
}

/** The location hash for a route (inverse of parseRoute). */
export function routeHash(route: Route): string {
  const search = route.query && Object.keys(route.query).length ? `?${new URLSearchParams(route.query).toString()}` : '';
  return `#/${route.screen}${route.id ? `/${encodeURIComponent(route.id)}` : ''}${search}`;
}
