/**
 * The policy model: what a policy file (docs/policy.md) says, after validation and normalization. The
 * YAML file, the console's editor and the store all hold exactly this; `formatPolicy` writes it back so
 * that parse(format(p)) equals p.
 *
 * Optional fields are absent (never `undefined`) when not given, so models compare with deep equality.
 */
import type { DetectorName, MaskStrategy, PolicyAction } from './policy-types';
import type { SqlCondition } from './sql-parser';

/** Who a rule applies to. Each list given must match (names and tags accept * and ? globs); omitted = everyone. */
export interface PolicyScope {
  connections?: string[];
  connectionTags?: string[];
  agents?: string[];
  agentTags?: string[];
}

export const PRESET_NAMES = ['destructive'] as const;
export type PresetName = (typeof PRESET_NAMES)[number];

/** A built-in rule set switched on by name (`presets: [destructive]`), optionally scoped and tuned. */
export interface PresetUse {
  name: PresetName;
  scope?: PolicyScope;
  /** Functions (names or globs, optionally schema-qualified) the preset lets through without approval. */
  allowFunctions?: string[];
  /** Force one action for everything the preset matches (default: block for destruction, approve for the unknowable). */
  action?: 'approve' | 'block';
  /** How long its approvals wait (default 5 minutes). */
  timeoutMs?: number;
}

/** What a SQL rule matches. Every field given must match; within a list, any entry. Omitted = every statement. */
export interface SqlMatch {
  /** Statement kinds ("drop table"), globs ("drop *") or groups (ddl, dml, privileges, transaction). */
  kinds?: string[];
  /** Tables: "users", "public.users", "billing.*", "*.secrets" (case-insensitive). */
  tables?: string[];
  /** How `tables` are touched: read, write, or any (default any). Without `tables`: any table at all. */
  access?: 'read' | 'write' | 'any';
  /** Functions called: "pg_read_file", "dblink*", "myschema.*". */
  functions?: string[];
  conditions?: SqlCondition[];
}

export interface SqlRule {
  name: string;
  scope?: PolicyScope;
  match?: SqlMatch;
  action: PolicyAction;
  /** approve only: how long to wait for a human (default 5 minutes). */
  timeoutMs?: number;
  /** Shown to the client (block) or the approver (approve) next to the rule name. */
  message?: string;
}

export interface CustomDetector {
  name: string;
  /** A JavaScript regular expression source, matched against each value. */
  pattern: string;
}

export interface MaskingRule {
  name: string;
  scope?: PolicyScope;
  /** Column patterns: "email", "*_token", "users.ssn", "public.users.card_number". */
  columns?: string[];
  detectors?: DetectorName[];
  custom?: CustomDetector[];
  strategy: MaskStrategy;
}

/** What an SSH rule matches. Every field given must match. Omitted = every exec command and shell. */
export interface SshMatch {
  /** true: interactive shells only (no command); false: exec commands only. */
  shell?: boolean;
  /** Programs the command runs (base names or globs: "rm", "python*"), also behind sudo, env, sh -c ... */
  programs?: string[];
  /** Arguments of such a program (globs: "-rf", "--force", "/etc/*"); any one is enough. "-rf" also counts as "-r" and "-f". */
  args?: string[];
}

/** A rule for SSH sessions: exec commands (by program and arguments, split as a shell would) and shells. */
export interface SshRule {
  name: string;
  scope?: PolicyScope;
  match?: SshMatch;
  action: PolicyAction;
  /** approve only: how long to wait for a human (default 5 minutes). */
  timeoutMs?: number;
  message?: string;
}

export interface Policy {
  version: 1;
  presets: PresetUse[];
  rules: SqlRule[];
  masking: MaskingRule[];
  /** SSH rules; absent when the file has none. */
  ssh?: SshRule[];
}

/** The empty policy: everything allowed, nothing masked. */
export const EMPTY_POLICY: Policy = { version: 1, presets: [], rules: [], masking: [] };

/** Every built-in value detector (the DetectorName type as a runtime list). */
export const DETECTOR_NAMES = [
  'email',
  'phone',
  'payment_card',
  'iban',
  'us_ssn',
  'ipv4',
  'ipv6',
  'jwt',
  'aws_access_key',
  'pem_private_key',
  'api_token',
] as const satisfies readonly DetectorName[];

// Compile-time check that the list above names every DetectorName.
type MissingDetector = Exclude<DetectorName, (typeof DETECTOR_NAMES)[number]>;
const _allDetectorsListed: MissingDetector extends never ? true : never = true;
void _allDetectorsListed;
