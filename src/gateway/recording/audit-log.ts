import { auditToDto } from '../core/dto';
import type { EventBus } from '../core/event-bus';
import type { AuditRecord } from '../store/records';
import type { StoreApi } from '../store/store-api';

/** What a caller says about an audit event; time and id are filled in. */
export type AuditInput = Omit<AuditRecord, 'id' | 'at' | 'agentName' | 'connectionName' | 'sessionId' | 'clientAddress'> &
  Partial<Pick<AuditRecord, 'agentName' | 'connectionName' | 'sessionId' | 'clientAddress'>>;

/**
 * Appends audit events (authentication, denials, grant and connection changes, ...) to the store and
 * publishes them on the bus. Every security decision the gateway makes goes through here.
 */
export class AuditLog {
  constructor(
    private readonly store: StoreApi,
    private readonly events: EventBus,
    private readonly now: () => number = Date.now,
  ) {}

  /** Record one event durably (its own transaction) and publish it; returns the stored record. */
  append(input: AuditInput): AuditRecord {
    const rec: AuditRecord = {
      at: this.now(),
      agentName: null,
      connectionName: null,
      sessionId: null,
      clientAddress: null,
      ...input,
    };
    rec.id = this.store.audit.append(rec);
    if (this.events.hasListeners('audit.appended')) this.events.emit('audit.appended', auditToDto(rec));
    return rec;
  }
}
