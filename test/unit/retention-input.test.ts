import { describe, expect, it } from 'vitest';
import { parseRetentionInput, retentionInput } from '../../src/renderer/src/screens/settings/retention-settings';

describe('retention input (settings screen)', () => {
  it('empty keeps recordings forever; whole days 1..36500 are accepted', () => {
    expect(parseRetentionInput('')).toEqual({ ok: true, days: null });
    expect(parseRetentionInput('  30 ')).toEqual({ ok: true, days: 30 });
    expect(parseRetentionInput('36500')).toEqual({ ok: true, days: 36500 });
    expect(retentionInput(null)).toBe('');
    expect(retentionInput(7)).toBe('7');
  });
  it('anything else is an error with a message', () => {
    for (const bad of ['0', '36501', '1.5', '-3', 'ten', '3e2']) expect(parseRetentionInput(bad).ok, bad).toBe(false);
  });
});
