import { ContractError } from '../../shared/contract';

/** Tags typed as "prod, pci  ai": split on commas and spaces, trimmed, de-duplicated, order kept. */
export function parseTags(text: string): string[] {
  return [...new Set(text.split(/[\s,]+/).map((t) => t.trim()).filter(Boolean))];
}

/**
 * A failed command as form feedback: the message, and per-field messages from the contract's `issues`
 * (keyed by the first path segment, e.g. "port").
 */
export function formErrors(err: unknown): { message: string; fields: Record<string, string> } {
  const fields: Record<string, string> = {};
  if (err instanceof ContractError && err.issues) {
    for (const i of err.issues) {
      const key = i.path.split('.')[0];
      fields[key] ??= i.message;
    }
  }
  const message = err instanceof Error ? err.message : String(err);
  return { message, fields };
}
