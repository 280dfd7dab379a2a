import { commands, events, type CommandName, type ContractErrorBody } from '../shared/contract';

export type CheckedCall = { ok: true; command: CommandName; input: unknown } | { ok: false; error: ContractErrorBody };

/**
 * Checks one contract call arriving over IPC before it may reach the gateway: the command must be in the
 * contract's allowlist and the input must pass its schema. Returns the parsed input (unknown keys are
 * rejected by the schemas) or the error body to send back.
 */
export function checkContractCall(command: unknown, input: unknown): CheckedCall {
  if (typeof command !== 'string' || !Object.hasOwn(commands, command)) {
    return { ok: false, error: { code: 'not_found', message: `unknown command "${String(command).slice(0, 80)}"` } };
  }
  const name = command as CommandName;
  const parsed = commands[name].input.safeParse(input ?? {});
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => ({ path: i.path.join('.') || '(input)', message: i.message }));
    return { ok: false, error: { code: 'invalid', message: `invalid input for ${name}`, issues } };
  }
  return { ok: true, command: name, input: parsed.data };
}

/** Whether an event name from the gateway process is one of the contract's events (others are dropped). */
export function isContractEvent(name: unknown): boolean {
  return typeof name === 'string' && Object.hasOwn(events, name);
}
