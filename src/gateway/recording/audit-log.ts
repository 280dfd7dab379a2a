import { auditToDto } from '../core/dto';
import type { EventBus } from '../core/event-bus';
import type { AuditRecord } from '../store/records';
import type { StoreApi } from '../store/store-api';
import type { Signer } from '../identity/signing-key';
import { signCheckpoint } from './audit-verify';

const CHECKPOINT_EVERY = 100;

/** What a caller says about an audit event; time and id are filled in. */
export type AuditInput = Omit<AuditRecord, 'id' | 'at' | 'agentName' | 'connectionName' | 'sessionId' | 'clientAddress'> &
  Partial<Pick<AuditRecord, 'agentName' | 'connectionName' | 'sessionId' | 'clientAddress'>>;

/**
 * Appends audit events (authentication, denials, grant and connection changes, ...) to the store and
 * publishes them on the bus. Every security decision the gateway makes goes through here.
 */
export class AuditLog {
  private sinceCheckpoint = 0;

  constructor(
    private readonly store: StoreApi,
    private readonly events: EventBus,
    private readonly now: () => number = Date.now,
    /** Signs a checkpoint of the chain every CHECKPOINT_EVERY events and on close. */
    private readonly signer: Signer | null = null,
  ) {}

  /** Sign the chain's current head now (at shutdown, before an export). */
  checkpoint(): void {
    if (!this.signer) return;
    signCheckpoint(this.store, this.signer, this.now());
    this.sinceCheckpoint = 0;
  }

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
    if (this.signer && ++this.sinceCheckpoint >= CHECKPOINT_EVERY) this.checkpoint();
    if (this.events.hasListeners('audit.appended')) this.events.emit('audit.appended', auditToDto(rec));
    return rec;
  }
}
