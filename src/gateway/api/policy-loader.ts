import { createHash } from 'node:crypto';
import { brokenPolicy, compilePolicy, type CompiledPolicy } from '../policy/policy-engine';
import { formatPolicy, parsePolicy } from '../policy/policy-file';
import { EMPTY_POLICY } from '../policy/policy-model';
import type { PolicyRecord } from '../store/policies-repo';
import type { StoreApi } from '../store/store-api';

/** Hex SHA-256 of a policy file's text (UTF-8), as audited with every applied version. */
export const policySha256 = (yaml: string): string => createHash('sha256').update(yaml, 'utf8').digest('hex');

/** The text `policy export` gives before any policy was applied. */
export const EMPTY_POLICY_YAML = formatPolicy(EMPTY_POLICY);

/** The stored policy in force, or version 0 (the empty policy) when none was ever applied. */
export function currentPolicyRecord(store: StoreApi): PolicyRecord {
  return store.policies.current() ?? { version: 0, yaml: EMPTY_POLICY_YAML, sha256: policySha256(EMPTY_POLICY_YAML), appliedAt: 0, appliedBy: '' };
}

/**
 * Compile the policy in force, for the gateway to call at start and on every `policy.changed` event.
 * Fail closed: a stored policy that no longer parses (say, written by a newer Gatehouse) compiles to a
 * policy that blocks every statement, with the first error in its message; a store that can't be read
 * throws (the caller must not serve without a policy).
 */
export function loadCompiledPolicy(store: StoreApi): CompiledPolicy {
  const rec = currentPolicyRecord(store);
  const parsed = parsePolicy(rec.yaml);
  if (!parsed.ok) {
    const e = parsed.errors[0];
    return brokenPolicy(`stored policy version ${rec.version} is invalid: line ${e.line}, column ${e.column}: ${e.path}: ${e.message}`);
  }
  return compilePolicy(parsed.policy);
}
