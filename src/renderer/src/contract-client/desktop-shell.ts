import { AppEvent } from '../../../shared/ipc';

/** Whether this window runs inside the desktop app (the preload exposed the bridge). */
export function inDesktopApp(): boolean {
  return window.gatehouse !== undefined;
}

/** Listen to the app menu's "Go" items (desktop only; a no-op in a browser). Returns the unsubscribe. */
export function onMenuNavigate(listener: (route: string) => void): () => void {
  const bridge = window.gatehouse;
  if (!bridge) return () => {};
  return bridge.on(AppEvent.navigate, (payload) => {
    const route = (payload as { route?: unknown } | null)?.route;
    if (typeof route === 'string') listener(route);
  });
}
