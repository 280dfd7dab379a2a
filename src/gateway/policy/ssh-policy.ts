/**
 * Decisions for SSH sessions: an exec command (matched by the programs it runs and their arguments, as a
 * shell would split them, never by substring) or an interactive shell, against the `ssh:` rules of the
 * policy in force.
 *
 * - The strictest matching rule wins (block > approve > allow); no applicable rule: allow.
 * - A command the policy cannot read word by word (unterminated quote, command substitution, a program
 *   name from a variable) is blocked whenever any non-allow ssh rule applies to the subject: fail closed.
 * - A policy that failed to load blocks everything.
 */
import { globToRegExp } from './policy-file';
import type { CompiledPolicy } from './policy-engine';
import type { SshRule } from './policy-model';
import { DEFAULT_APPROVAL_TIMEOUT_MS, type PolicyAction, type PolicySubject, type StatementDecision } from './policy-types';
import { programCalls, type ProgramCall } from './shell-command';

/** What an SSH channel asks to run. */
export type SshRequest = { kind: 'shell' } | { kind: 'exec'; command: string };

const STRICTNESS: Record<PolicyAction, number> = { allow: 0, approve: 1, block: 2 };
const ALLOW: StatementDecision = { action: 'allow', rule: null, message: '', timeoutMs: 0 };

interface CompiledSshRule {
  rule: SshRule;
  inScope(s: PolicySubject): boolean;
  matchesShell: boolean;
  matchesCall(call: ProgramCall): boolean;
  /** True when the rule matches every command (no program or argument criteria). */
  anyCommand: boolean;
}

const anyGlob = (patterns: readonly string[] | undefined) => {
  if (!patterns) return null;
  const res = patterns.map(globToRegExp);
  return (v: string) => res.some((re) => re.test(v));
};

/** "-rf" -> ["-rf", "-r", "-f"]; long options and other words stay as they are. */
function expandArgs(args: readonly string[]): string[] {
  const out: string[] = [];
  for (const a of args) {
    out.push(a);
    if (/^-[A-Za-z0-9]{2,}$/.test(a)) for (const ch of a.slice(1)) out.push(`-${ch}`);
  }
  return out;
}

function compileRule(rule: SshRule): CompiledSshRule {
  const s = rule.scope ?? {};
  const conn = anyGlob(s.connections);
  const connTags = anyGlob(s.connectionTags);
  const agent = anyGlob(s.agents);
  const agentTags = anyGlob(s.agentTags);
  const m = rule.match ?? {};
  const programs = anyGlob(m.programs);
  const args = anyGlob(m.args);
  return {
    rule,
    inScope: (x) =>
      (!conn || conn(x.connection.name)) && (!connTags || x.connection.tags.some(connTags)) && (!agent || agent(x.agent.name)) && (!agentTags || x.agent.tags.some(agentTags)),
    // A shell matches rules that ask for shells, and rules with no criteria at all.
    matchesShell: m.shell === true || (m.shell === undefined && !programs && !args),
    anyCommand: m.shell !== true && !programs && !args,
    matchesCall: (call) => m.shell !== true && (!programs || programs(call.program)) && (!args || expandArgs(call.args).some(args)),
  };
}

const cache = new WeakMap<CompiledPolicy, CompiledSshRule[]>();

function sshRules(compiled: CompiledPolicy): CompiledSshRule[] {
  let rules = cache.get(compiled);
  if (!rules) {
    rules = (compiled.policy.ssh ?? []).map(compileRule);
    cache.set(compiled, rules);
  }
  return rules;
}

function decision(r: SshRule, what: string): StatementDecision {
  const verb = r.action === 'block' ? 'blocked' : r.action === 'approve' ? 'held for approval' : 'allowed';
  return {
    action: r.action,
    rule: r.name,
    message: `${verb} by policy rule "${r.name}"${r.message ? `: ${r.message}` : ''} (${what})`,
    timeoutMs: r.timeoutMs ?? DEFAULT_APPROVAL_TIMEOUT_MS,
  };
}

/** Whether any SSH rule applies to this agent and connection (if none, requests need no decision). */
export function policyAppliesToSsh(compiled: CompiledPolicy, subject: PolicySubject): boolean {
  return compiled.broken !== null || sshRules(compiled).some((r) => r.inScope(subject));
}

/** Decide one SSH request (see the file comment for the rules). */
export function decideSsh(compiled: CompiledPolicy, subject: PolicySubject, req: SshRequest): StatementDecision {
  if (compiled.broken !== null) {
    return { action: 'block', rule: null, message: `blocked: the policy in force is broken (${compiled.broken})`, timeoutMs: DEFAULT_APPROVAL_TIMEOUT_MS };
  }
  const rules = sshRules(compiled).filter((r) => r.inScope(subject));
  if (rules.length === 0) return ALLOW;
  let best: StatementDecision = ALLOW;
  const consider = (d: StatementDecision) => {
    if (STRICTNESS[d.action] > STRICTNESS[best.action] || (best.rule === null && d.rule !== null && d.action === best.action)) best = d;
  };
  if (req.kind === 'shell') {
    for (const r of rules) if (r.matchesShell) consider(decision(r.rule, 'interactive shell'));
    return best;
  }
  const parsed = programCalls(req.command);
  const strict = rules.some((r) => r.rule.action !== 'allow' && r.rule.match?.shell !== true);
  if (!parsed || parsed.uncheckable) {
    const why = parsed ? parsed.uncheckable! : 'it has an unterminated quote';
    if (strict) return { action: 'block', rule: null, message: `blocked: gatehouse cannot check this command because ${why}`, timeoutMs: DEFAULT_APPROVAL_TIMEOUT_MS };
  }
  const calls = parsed?.calls ?? [];
  for (const r of rules) {
    if (r.rule.match?.shell === true) continue;
    if (r.anyCommand) {
      consider(decision(r.rule, `command: ${req.command}`));
      continue;
    }
    const hit = calls.find((c) => r.matchesCall(c));
    if (hit) consider(decision(r.rule, `${hit.program}${hit.args.length ? ' ' + hit.args.join(' ') : ''}`));
  }
  return best;
}
