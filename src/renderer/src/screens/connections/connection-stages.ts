import type { ConnectionTestResult } from '../../../../shared/contract';

/** The stages a connection test goes through, in order. */
export const TEST_STAGES = ['dns', 'tcp', 'tls', 'auth', 'query'] as const;

export type StageState = 'passed' | 'failed' | 'not_reached';

/**
 * Each stage of a connection test with what happened to it: every stage before the failing one passed,
 * the failing one failed, the rest were not reached. A successful test passed them all.
 */
export function stageStates(result: ConnectionTestResult): { stage: (typeof TEST_STAGES)[number]; state: StageState }[] {
  const failedAt = result.ok ? TEST_STAGES.length : TEST_STAGES.indexOf(result.stage as (typeof TEST_STAGES)[number]);
  return TEST_STAGES.map((stage, i) => ({ stage, state: i < failedAt ? 'passed' : i === failedAt ? 'failed' : 'not_reached' }));
}
