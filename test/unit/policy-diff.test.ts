import { describe, expect, it } from 'vitest';
import { diffPolicies } from '../../src/gateway/policy/policy-diff';

describe('diffPolicies', () => {
  it('gives a unified diff labelled with both versions and counts the changed lines', () => {
    const c = diffPolicies({ version: 1, yaml: 'a: 1\nb: 2\nc: 3\n' }, { version: 2, yaml: 'a: 1\nb: 5\nc: 3\nd: 4\n' });
    expect(c.linesAdded).toBe(2);
    expect(c.linesRemoved).toBe(1);
    expect(c.truncated).toBe(false);
    expect(c.patch.startsWith('--- policy.yaml\tversion 1\n')).toBe(true);
    expect(c.patch).toContain('+++ policy.yaml\tversion 2');
    expect(c.patch).toContain('\n-b: 2\n+b: 5\n');
    expect(c.patch).toContain('\n+d: 4\n');
  });

  it('shows the first version as all added, and nothing for an identical file', () => {
    const first = diffPolicies({ version: 0, yaml: '' }, { version: 1, yaml: 'rules: []\n' });
    expect(first).toMatchObject({ linesAdded: 1, linesRemoved: 0 });
    expect(first.patch).toContain('+rules: []');
    expect(diffPolicies({ version: 1, yaml: 'x: 1\n' }, { version: 2, yaml: 'x: 1\n' })).toEqual({ patch: '', truncated: false, linesAdded: 0, linesRemoved: 0 });
  });

  it('cuts a huge patch at a line boundary and says so, keeping the counts whole', () => {
    const big = Array.from({ length: 5000 }, (_, i) => `line${i}: ${i}`).join('\n') + '\n';
    const c = diffPolicies({ version: 3, yaml: '' }, { version: 4, yaml: big }, 1000);
    expect(c.truncated).toBe(true);
    expect(c.patch.length).toBeLessThanOrEqual(1000);
    expect(c.patch.endsWith('\n')).toBe(true);
    expect(c.linesAdded).toBe(5000);
  });
});
