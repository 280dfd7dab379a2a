import { describe, expect, it } from 'vitest';
import { brokenPolicy, compilePolicy } from '../../src/gateway/policy/policy-engine';
import { formatPolicy, parsePolicy } from '../../src/gateway/policy/policy-file';
import { parseShellCommand, programCalls } from '../../src/gateway/policy/shell-command';
import { decideSsh, policyAppliesToSsh } from '../../src/gateway/policy/ssh-policy';

const subject = (connection = 'web1', agent = 'bot', tags: string[] = []) => ({ connection: { name: connection, tags }, agent: { name: agent, tags: [] } });

function policy(yaml: string) {
  const r = parsePolicy(yaml);
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  return compilePolicy(r.policy);
}

const FILE = `version: 1
ssh:
  - name: no-recursive-rm
    match: { programs: [rm], args: [-r, --recursive] }
    action: block
  - name: restarts
    scope: { connections: [web*] }
    match: { programs: [systemctl], args: [restart, stop] }
    action: approve
    timeout: 2m
  - name: shells
    match: { shell: true }
    action: approve
  - name: ls-ok
    match: { programs: [ls] }
    action: allow
`;

describe('shell command parsing for policy', () => {
  it('splits simple commands at operators and removes quotes', () => {
    expect(parseShellCommand(`a 'b c' && d "e f"|g;h & i\nj (k)`)).toEqual({ commands: [['a', 'b c'], ['d', 'e f'], ['g'], ['h'], ['i'], ['j'], ['k']], uncheckable: null });
    expect(parseShellCommand('echo "unterminated')).toBeNull();
  });

  it('flags what it cannot see', () => {
    expect(parseShellCommand('echo $(id)')!.uncheckable).toMatch(/command substitution/);
    expect(parseShellCommand('echo "`id`"')!.uncheckable).toMatch(/command substitution/);
    expect(parseShellCommand('diff <(ls) x')!.uncheckable).toMatch(/process substitution/);
    expect(parseShellCommand('$CMD -rf /')!.uncheckable).toMatch(/program name/);
    expect(parseShellCommand('/bin/r? -rf /')!.uncheckable).toMatch(/program name/);
    expect(parseShellCommand("echo '$HOME' $HOME")!.uncheckable).toBeNull();
  });

  it('sees through wrappers and sh -c', () => {
    const progs = (l: string) => programCalls(l)!.calls.map((c) => c.program);
    expect(progs('sudo -u root env A=1 nice -n 5 timeout -s KILL 10 /usr/bin/rm -rf /')).toEqual(['sudo', 'env', 'nice', 'timeout', 'rm']);
    expect(progs(`bash -lc 'cd /; systemctl restart nginx'`)).toEqual(['bash', 'cd', 'systemctl']);
    expect(progs('FOO=bar if true; then xargs -n 1 rm; fi')).toEqual(['true', 'xargs', 'rm']);
  });
});

describe('decideSsh', () => {
  const p = policy(FILE);

  it('blocks by program and arguments, not by substring', () => {
    expect(decideSsh(p, subject(), { kind: 'exec', command: 'rm -rf /tmp/x' })).toMatchObject({ action: 'block', rule: 'no-recursive-rm' });
    expect(decideSsh(p, subject(), { kind: 'exec', command: 'rm -fr /tmp/x' })).toMatchObject({ action: 'block' });
    expect(decideSsh(p, subject(), { kind: 'exec', command: 'cd / && sudo rm --recursive x' })).toMatchObject({ action: 'block' });
    expect(decideSsh(p, subject(), { kind: 'exec', command: 'rm -f one-file' })).toMatchObject({ action: 'allow', rule: null });
    expect(decideSsh(p, subject(), { kind: 'exec', command: 'echo rm -rf /' })).toMatchObject({ action: 'allow' });
    expect(decideSsh(p, subject(), { kind: 'exec', command: 'grep -r rm .' })).toMatchObject({ action: 'allow' });
  });

  it('holds by scope, names an allow rule only when nothing stricter matched, and fails closed on what it cannot read', () => {
    expect(decideSsh(p, subject('web1'), { kind: 'exec', command: 'systemctl restart nginx' })).toMatchObject({ action: 'approve', rule: 'restarts', timeoutMs: 120_000 });
    expect(decideSsh(p, subject('db1'), { kind: 'exec', command: 'systemctl restart nginx' })).toMatchObject({ action: 'allow' });
    expect(decideSsh(p, subject(), { kind: 'exec', command: 'ls -la' })).toMatchObject({ action: 'allow', rule: 'ls-ok' });
    expect(decideSsh(p, subject(), { kind: 'exec', command: 'ls; rm -r x' })).toMatchObject({ action: 'block', rule: 'no-recursive-rm' });
    expect(decideSsh(p, subject(), { kind: 'exec', command: 'ls $(echo x)' })).toMatchObject({ action: 'block', rule: null });
    expect(decideSsh(p, subject(), { kind: 'exec', command: "ls 'x" })).toMatchObject({ action: 'block', rule: null });
    expect(decideSsh(p, subject(), { kind: 'shell' })).toMatchObject({ action: 'approve', rule: 'shells' });
  });

  it('allows everything without ssh rules, and blocks everything under a broken policy', () => {
    const empty = policy('version: 1\n');
    expect(policyAppliesToSsh(empty, subject())).toBe(false);
    expect(decideSsh(empty, subject(), { kind: 'exec', command: 'rm -rf / $(x)' })).toMatchObject({ action: 'allow' });
    expect(decideSsh(brokenPolicy('bad'), subject(), { kind: 'exec', command: 'true' })).toMatchObject({ action: 'block' });
    expect(decideSsh(brokenPolicy('bad'), subject(), { kind: 'shell' })).toMatchObject({ action: 'block' });
  });

  it('the ssh section round-trips through the policy file and is validated', () => {
    const parsed = parsePolicy(FILE);
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    expect(parsed.policy.ssh).toHaveLength(4);
    const again = parsePolicy(formatPolicy(parsed.policy));
    expect(again).toEqual(parsed);
    expect(parsePolicy('version: 1\n').ok && (parsePolicy('version: 1\n') as { policy: object }).policy).not.toHaveProperty('ssh');
    const bad = parsePolicy('version: 1\nssh:\n  - name: x\n    match: { program: [rm] }\n    action: block\n');
    expect(bad.ok).toBe(false);
    if (!bad.ok) expect(bad.errors[0]).toMatchObject({ line: 4, path: 'ssh[0].match.program', message: 'unknown field "program"' });
  });
});
