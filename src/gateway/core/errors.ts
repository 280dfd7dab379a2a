import { ContractError, type ErrorCode } from '../../shared/contract';

/**
 * Errors that carry a message safe to show to a client or operator. Anything else thrown inside the
 * gateway is internal: it is logged and replaced by a generic message, never sent with its stack.
 */
export class GatehouseError extends ContractError {
  constructor(code: ErrorCode, message: string, issues?: { path: string; message: string }[]) {
    super(code, message, issues);
    this.name = 'GatehouseError';
  }
}

export const notFound = (what: string, name: string) => new GatehouseError('not_found', `${what} "${name}" does not exist`);
export const conflict = (message: string) => new GatehouseError('conflict', message);
export const invalid = (message: string, issues?: { path: string; message: string }[]) => new GatehouseError('invalid', message, issues);

/** Turn any thrown value into a safe ContractError; unknown errors become "internal" without detail. */
export function toSafeError(err: unknown): ContractError {
  if (err instanceof ContractError) return err;
  return new ContractError('internal', 'internal error (see the gateway log)');
}
