import type { ApprovalDto } from '../../shared/contract';

/** Whether this browser can show Web Notifications and what the user said about them. */
export function notificationPermission(): NotificationPermission | 'unsupported' {
  return typeof Notification === 'undefined' ? 'unsupported' : Notification.permission;
}

/** Ask for permission (call from a click: browsers ignore requests without a user gesture). */
export async function requestNotificationPermission(): Promise<NotificationPermission | 'unsupported'> {
  if (typeof Notification === 'undefined') return 'unsupported';
  return Notification.requestPermission();
}

/**
 * A Web Notification for a new approval request, when the user allowed them (browser console only: the
 * desktop app shows native ones from its main process). Clicking it focuses the tab and opens the request.
 */
export function notifyApprovalRequested(a: ApprovalDto, open: (id: string) => void): void {
  if (notificationPermission() !== 'granted') return;
  const n = new Notification(`Approval needed: ${a.agentName} on ${a.connectionName}`, {
    body: `${a.rule}: ${a.statement.length > 180 ? `${a.statement.slice(0, 180)}…` : a.statement}`,
    tag: `gatehouse-approval-${a.id}`,
  });
  n.onclick = () => {
    window.focus();
    open(a.id);
    n.close();
  };
}
