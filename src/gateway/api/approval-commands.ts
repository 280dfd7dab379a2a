import { approvalToDto } from '../core/dto';
import { GatehouseError } from '../core/errors';
import type { ApiDeps, Handlers } from './api-types';

type Names = 'approvals.list' | 'approvals.decide';

/**
 * approvals.*: statements and commands held for a human. Listing reads the store (so it works without
 * a running gateway); deciding needs the gateway that holds the request.
 */
export function approvalCommands(deps: ApiDeps): Handlers<Names> {
  const { store } = deps;
  return {
    'approvals.list': (input) => {
      const status = input.all ? undefined : (input.status ?? 'pending');
      return store.approvals.list({ status, limit: input.limit }).map(approvalToDto);
    },

    'approvals.decide': (input, ctx) => {
      if (!deps.approvals) {
        throw new GatehouseError('unavailable', 'no gateway is running here: approval requests are held and decided by `gatehouse serve`');
      }
      const record = deps.approvals.decide(input.id, {
        decision: input.decision,
        by: ctx.actor,
        reason: input.reason,
        sessionMinutes: input.decision === 'approve' ? input.sessionMinutes : undefined,
      });
      return approvalToDto(record);
    },
  };
}
