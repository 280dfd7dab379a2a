import { Notification } from 'electron';

// Electron drops a notification's click handler when the object is garbage-collected; hold each one
// until it is clicked or closed.
const shown = new Set<Notification>();

/**
 * Shows a native notification (e.g. a new approval request, issue 4); `onClick` runs when the user clicks
 * it. Does nothing where the OS has no notification support.
 */
export function notify(opts: { title: string; body: string; onClick?: () => void }): void {
  if (!Notification.isSupported()) return;
  const n = new Notification({ title: opts.title, body: opts.body });
  shown.add(n);
  n.on('click', () => {
    shown.delete(n);
    opts.onClick?.();
  });
  n.on('close', () => shown.delete(n));
  n.show();
}
