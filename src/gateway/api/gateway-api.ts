import { commands, ContractError, type CommandName } from '../../shared/contract';
import { GatehouseError, toSafeError } from '../core/errors';
import type { Logger } from '../core/logger';
import { agentCommands } from './agent-commands';
import { approvalCommands } from './approval-commands';
import type { ApiDeps, CallContext, Handlers } from './api-types';
import { connectionCommands } from './connection-commands';
import { grantCommands } from './grant-commands';
import { policyCommands } from './policy-commands';
import { reviewCommands } from './review-commands';
import { evidenceCommands } from './evidence-commands';
import { recordingCommands } from './recording-commands';
import { sessionCommands } from './session-commands';
import { settingsCommands } from './settings-commands';

/** The one implementation of the contract. Transports hand it raw input; it validates everything. */
export interface GatewayApi {
  call(command: string, input: unknown, ctx: CallContext): Promise<unknown>;
}

/** Build the API over the store and the running gateway. */
export function createGatewayApi(deps: ApiDeps, log: Logger): GatewayApi {
  const handlers: Handlers = {
    ...connectionCommands(deps),
    ...agentCommands(deps),
    ...grantCommands(deps),
    ...sessionCommands(deps),
    ...recordingCommands(deps),
    ...reviewCommands(deps),
    ...evidenceCommands(deps),
    ...approvalCommands(deps),
    ...policyCommands(deps),
    ...settingsCommands(deps),
  };
  return {
    async call(command, input, ctx) {
      if (!Object.hasOwn(commands, command)) throw new GatehouseError('not_found', `unknown command "${command}"`);
      const name = command as CommandName;
      const parsed = commands[name].input.safeParse(input ?? {});
      if (!parsed.success) {
        const issues = parsed.error.issues.map((i) => ({ path: i.path.join('.') || '(input)', message: i.message }));
        throw new GatehouseError('invalid', `invalid input for ${name}: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`, issues);
      }
      try {
        return await (handlers[name] as (i: unknown, c: CallContext) => unknown)(parsed.data, ctx);
      } catch (err) {
        if (!(err instanceof ContractError)) log.error('command failed', { command: name, err });
        throw toSafeError(err);
      }
    },
  };
}
