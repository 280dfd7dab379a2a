import type { CommandName, CommandOutput, CommandParsedInput, ConnectionTestResult, ServerInfoDto } from '../../shared/contract';
import type { ApprovalBroker } from '../approvals/approval-broker';
import type { AuditLog } from '../recording/audit-log';
import type { RecordingRetention } from '../recording/retention';
import type { EventBus } from '../core/event-bus';
import type { SecretBox } from '../identity/secret-box';
import type { Signer } from '../identity/signing-key';
import type { UpstreamTarget } from '../postgres/upstream';
import type { StoreApi } from '../store/store-api';

/** What the API needs from the running gateway (listeners, live sessions). */
export interface GatewayRuntime {
  /** End open sessions matching the filter; returns how many. */
  closeSessions(filter: { agentId?: string; connectionId?: string }, reason: string): number;
  /** Check that an upstream answers and accepts the stored credential. */
  testConnection(target: UpstreamTarget): Promise<ConnectionTestResult>;
}

export interface ApiDeps {
  store: StoreApi;
  secretBox: SecretBox;
  audit: AuditLog;
  events: EventBus;
  runtime: GatewayRuntime;
  info: () => ServerInfoDto;
  /** The installation's signing key; audit checkpoints signed by any other key fail verification. */
  auditPublicKey?: string | null;
  /** Signs completed reviews (and, later, evidence packs). */
  signer?: Signer | null;
  /** Held approval requests (null when no gateway runs in this process, e.g. the CLI on its own). */
  approvals?: ApprovalBroker | null;
  /** Removes recordings past the retention setting (the gateway's own; built on demand without one). */
  retention?: RecordingRetention | null;
  now?: () => number;
}

/** Who is calling: "admin" (console), "cli", "desktop", ... recorded as the actor of audit events. */
export interface CallContext {
  actor: string;
}

export type Handler<C extends CommandName> = (input: CommandParsedInput<C>, ctx: CallContext) => Promise<CommandOutput<C>> | CommandOutput<C>;
export type Handlers<C extends CommandName = CommandName> = { [K in C]: Handler<K> };
