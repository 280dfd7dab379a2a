/**
 * Desktop alerts for approval requests: a native notification for each new request (clicking it opens
 * that request in the console) and the tray's pending count. Fed with the gateway's contract events; the
 * count starts from the events seen since the app started (requests left from an earlier run are denied
 * when the gateway starts, so none are pending then).
 */
export class ApprovalAlerts {
  private readonly pending = new Set<string>();

  constructor(
    private readonly out: {
      notify: (n: { title: string; body: string; onClick: () => void }) => void;
      setPending: (count: number) => void;
      open: (route: string) => void;
    },
  ) {}

  /** Look at one gateway event; only approval.requested / approval.decided matter. */
  onEvent(event: string, payload: unknown): void {
    if (event !== 'approval.requested' && event !== 'approval.decided') return;
    const a = payload as { id?: unknown; status?: unknown; agentName?: unknown; connectionName?: unknown; rule?: unknown; statement?: unknown };
    if (typeof a?.id !== 'string') return;
    const id = a.id;
    const before = this.pending.size;
    if (event === 'approval.requested' && a.status === 'pending' && !this.pending.has(id)) {
      this.pending.add(id);
      const statement = String(a.statement ?? '');
      this.out.notify({
        title: `Approval needed: ${String(a.agentName)} on ${String(a.connectionName)}`,
        body: `${String(a.rule)}: ${statement.length > 180 ? `${statement.slice(0, 180)}…` : statement}`,
        onClick: () => this.out.open(`approvals/${encodeURIComponent(id)}`),
      });
    } else if (event === 'approval.decided') {
      this.pending.delete(id);
    }
    if (this.pending.size !== before) this.out.setPending(this.pending.size);
  }
}
