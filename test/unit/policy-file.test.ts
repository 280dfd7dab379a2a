import { describe, expect, it } from 'vitest';
import { formatDuration, formatPolicy, parseDuration, parsePolicy, type PolicyFileError } from '../../src/gateway/policy/policy-file';
import { EMPTY_POLICY, type Policy } from '../../src/gateway/policy/policy-model';

const FULL = `# a comment
version: 1
presets:
  - destructive
  - name: destructive
    scope: { connections: [prod-*], agentTags: [untrusted] }
    allowFunctions: [app.safe_fn, "stats_*"]
    action: approve
    timeout: 10m
rules:
  - name: no-drop-users
    scope:
      connections: [prod]
      agents: [reporting-bot]
    match:
      kinds: [DROP TABLE, "alter *"]
      tables: [public.users, "billing.*"]
      access: write
    action: block
    message: users are forever
  - name: approve-deletes
    match: { kinds: [delete], conditions: [delete_without_where] }
    action: approve
    timeout: 1h30m
  - name: no-file-reads
    match: { functions: [pg_read_file, "lo_*"] }
    action: block
  - name: hold-everything-for-interns
    scope: { agentTags: [intern] }
    action: approve
masking:
  - name: pii
    columns: [email, "*.ssn", public.users.card_number]
    detectors: [email, payment_card, iban]
    custom:
      - { name: employee-id, pattern: "E\\\\d{6}" }
    strategy: { partial: 4 }
  - name: secrets
    scope: { connections: [prod] }
    columns: ["*_token"]
    strategy: hash
  - name: nulls
    detectors: [us_ssn]
    strategy: null
  - name: default-redact
    columns: [password]
`;

function parsed(text: string): Policy {
  const r = parsePolicy(text);
  if (!r.ok) throw new Error(`expected a valid policy: ${JSON.stringify(r.errors)}`);
  return r.policy;
}

function errors(text: string): PolicyFileError[] {
  const r = parsePolicy(text);
  if (r.ok) throw new Error('expected errors');
  return r.errors;
}

describe('policy file', () => {
  it('parses every section into the model', () => {
    const p = parsed(FULL);
    expect(p.presets).toEqual([
      { name: 'destructive' },
      { name: 'destructive', scope: { connections: ['prod-*'], agentTags: ['untrusted'] }, allowFunctions: ['app.safe_fn', 'stats_*'], action: 'approve', timeoutMs: 600_000 },
    ]);
    expect(p.rules[0]).toEqual({
      name: 'no-drop-users',
      scope: { connections: ['prod'], agents: ['reporting-bot'] },
      match: { kinds: ['drop table', 'alter *'], tables: ['public.users', 'billing.*'], access: 'write' },
      action: 'block',
      message: 'users are forever',
    });
    expect(p.rules[1].timeoutMs).toBe(5_400_000);
    expect(p.rules[3]).toEqual({ name: 'hold-everything-for-interns', scope: { agentTags: ['intern'] }, action: 'approve' });
    expect(p.masking.map((m) => m.strategy)).toEqual([{ kind: 'partial', keep: 4 }, { kind: 'hash' }, { kind: 'null' }, { kind: 'redact' }]);
    expect(p.masking[0].custom).toEqual([{ name: 'employee-id', pattern: 'E\\d{6}' }]);
  });

  it('round-trips: parse(format(p)) deep-equals p', () => {
    const p = parsed(FULL);
    const text = formatPolicy(p);
    expect(parsed(text)).toEqual(p);
    // and formatting is stable
    expect(formatPolicy(parsed(text))).toBe(text);
    expect(text).toContain('  - destructive\n');
    expect(text).toContain('timeout: 1h30m');
    expect(text).toContain('strategy: null');
  });

  it('round-trips the empty policy; `version: 1` alone is valid', () => {
    expect(parsed('version: 1\n')).toEqual(EMPTY_POLICY);
    expect(parsed(formatPolicy(EMPTY_POLICY))).toEqual(EMPTY_POLICY);
  });

  it('durations', () => {
    expect(parseDuration('90s')).toBe(90_000);
    expect(parseDuration('1h30m')).toBe(5_400_000);
    expect(parseDuration('250ms')).toBe(250);
    expect(parseDuration(30)).toBe(30_000);
    expect(parseDuration('5 minutes')).toBeNull();
    expect(parseDuration('0s')).toBeNull();
    expect(formatDuration(5_400_000)).toBe('1h30m');
    expect(formatDuration(90_500)).toBe('1m30s500ms');
  });
});

describe('line-precise errors', () => {
  it('bad YAML syntax names the line', () => {
    const e = errors('version: 1\nrules:\n  - name: a\n    action: [block\n');
    expect(e[0].line).toBeGreaterThanOrEqual(4);
    expect(e[0].path).toBe('(file)');
    expect(errors('version: 1\nversion: 1\n')[0]).toMatchObject({ line: 2, path: '(file)' });
  });

  it('an unknown key points at the key', () => {
    const e = errors('version: 1\nrules:\n  - name: a\n    action: block\n    acton: allow\n');
    expect(e).toEqual([{ line: 5, column: 5, path: 'rules[0].acton', message: 'unknown field "acton"' }]);
    expect(errors('version: 1\nrule: []\n')[0]).toMatchObject({ line: 2, column: 1, path: 'rule' });
    expect(errors('version: 1\nrules:\n  - name: a\n    action: block\n    match: { kind: [select] }\n')[0]).toMatchObject({ line: 5, column: 14, path: 'rules[0].match.kind' });
  });

  it('a wrong type points at the value', () => {
    expect(errors('version: 1\nrules:\n  - name: a\n    action: maybe\n')[0]).toMatchObject({ line: 4, column: 13, path: 'rules[0].action' });
    expect(errors('version: 1\nrules:\n  - name: a\n    action: block\n    match:\n      tables: public.users\n')[0]).toMatchObject({ line: 6, column: 15, path: 'rules[0].match.tables' });
    expect(errors('version: 2\n')[0]).toMatchObject({ line: 1, column: 10, path: 'version', message: 'expected version: 1' });
    expect(errors('version: 1\nrules:\n  - name: a\n    action: approve\n    timeout: soon\n')[0]).toMatchObject({ line: 5, path: 'rules[0].timeout' });
  });

  it('a missing field points at its object', () => {
    expect(errors('version: 1\nrules:\n  - name: a\n')[0]).toMatchObject({ line: 3, column: 5, path: 'rules[0].action', message: 'missing required field "action"' });
    expect(errors('rules: []\n')[0]).toMatchObject({ path: 'version', message: 'missing required field "version"' });
  });

  it('unknown preset, detector, kind, condition; bad regex; duplicates; misplaced timeout', () => {
    expect(errors('version: 1\npresets: [destructiv]\n')[0]).toMatchObject({ line: 2, column: 11, path: 'presets[0].name' });
    expect(errors('version: 1\npresets: [destructiv]\n')[0].message).toMatch(/unknown preset/);
    const det = errors('version: 1\nmasking:\n  - name: m\n    detectors: [email, mail]\n');
    expect(det[0]).toMatchObject({ line: 4, column: 24, path: 'masking[0].detectors[1]' });
    expect(det[0].message).toMatch(/unknown detector/);
    expect(errors('version: 1\nrules:\n  - name: a\n    match: { kinds: [dropp table] }\n    action: block\n')[0]).toMatchObject({ line: 4, path: 'rules[0].match.kinds[0]' });
    expect(errors('version: 1\nrules:\n  - name: a\n    match: { kinds: ["nothing *"] }\n    action: block\n')[0].message).toMatch(/unknown statement kind/);
    expect(errors('version: 1\nrules:\n  - name: a\n    match: { conditions: [no_where] }\n    action: block\n')[0]).toMatchObject({ line: 4, path: 'rules[0].match.conditions[0]' });
    expect(errors('version: 1\nmasking:\n  - name: m\n    custom: [{ name: x, pattern: "(" }]\n')[0]).toMatchObject({ line: 4, path: 'masking[0].custom[0].pattern', message: 'not a valid regular expression' });
    expect(errors('version: 1\nrules:\n  - { name: a, action: block }\n  - { name: a, action: allow }\n')[0]).toMatchObject({ line: 4, path: 'rules[1].name' });
    expect(errors('version: 1\nrules:\n  - { name: a, action: block, timeout: 5m }\n')[0]).toMatchObject({ line: 3, path: 'rules[0].timeout' });
    expect(errors('version: 1\nmasking:\n  - { name: m, strategy: hash }\n')[0].message).toMatch(/needs columns, detectors/);
    expect(errors('version: 1\nmasking:\n  - { name: m, columns: [a], strategy: partial }\n')[0]).toMatchObject({ path: 'masking[0].strategy' });
  });

  it('reports several errors sorted by position', () => {
    const e = errors('version: 1\nrules:\n  - name: a\n    action: nope\n  - name: b\n    action: block\n    extra: 1\n');
    expect(e.map((x) => x.line)).toEqual([4, 7]);
  });
});
