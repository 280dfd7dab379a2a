import { readFileSync } from 'node:fs';
import { InvalidArgumentError } from 'commander';

/** A failure the CLI reports as one line and a non-zero exit. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}

/** Print rows as an aligned table (for humans); `--json` callers print the DTOs instead. */
export function printTable(rows: Record<string, unknown>[], columns: [key: string, title: string][]): void {
  if (rows.length === 0) {
    process.stdout.write('(none)\n');
    return;
  }
  const cells = rows.map((r) => columns.map(([k]) => format(r[k])));
  const widths = columns.map(([, title], i) => Math.max(title.length, ...cells.map((c) => c[i].length)));
  const line = (vals: string[]) => vals.map((v, i) => v.padEnd(widths[i])).join('  ').trimEnd() + '\n';
  process.stdout.write(line(columns.map(([, t]) => t.toUpperCase())));
  for (const c of cells) process.stdout.write(line(c));
}

function format(v: unknown): string {
  if (v === null || v === undefined) return '-';
  if (Array.isArray(v)) return v.join(',') || '-';
  if (typeof v === 'boolean') return v ? 'yes' : 'no';
  return String(v);
}

export function printJson(value: unknown): void {
  process.stdout.write(JSON.stringify(value, null, 2) + '\n');
}

/** Parse durations like 90s, 30m, 2h, 7d into seconds. */
export function parseDuration(text: string): number {
  const m = /^(\d+)\s*([smhdw])$/.exec(text.trim());
  if (!m) throw new CliError(`invalid duration "${text}": use a number and s, m, h, d or w (e.g. 2h)`, 2);
  const unit = { s: 1, m: 60, h: 3600, d: 86400, w: 604800 }[m[2] as 's']!;
  const seconds = Number(m[1]) * unit;
  if (seconds <= 0) throw new CliError('a duration must be positive', 2);
  return seconds;
}

/**
 * Read a secret from standard input (`--password-stdin`) or an environment variable (`--password-env`).
 * Secrets never come from arguments, which other users can read in the process list.
 */
export function readSecret(opts: { passwordStdin?: boolean; passwordEnv?: string }): string | undefined {
  if (opts.passwordStdin && opts.passwordEnv) throw new CliError('use either --password-stdin or --password-env, not both', 2);
  if (opts.passwordStdin) {
    const text = readFileSync(0, 'utf8').replace(/\r?\n$/, '');
    if (!text) throw new CliError('no password on standard input');
    return text;
  }
  if (opts.passwordEnv) {
    const v = process.env[opts.passwordEnv];
    if (v === undefined || v === '') throw new CliError(`environment variable ${opts.passwordEnv} is not set`);
    return v;
  }
  return undefined;
}

/** Option parser for a TCP port (0 allowed for listeners: any free port); bad values are usage errors. */
export function parsePort(text: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text) || n > 65535) throw new InvalidArgumentError('expected a port number (0-65535)');
  return n;
}

/** Option parser for a positive integer (counts, limits); bad values are usage errors. */
export function parsePositiveInt(text: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text) || n < 1 || !Number.isSafeInteger(n)) throw new InvalidArgumentError('expected a positive whole number');
  return n;
}

/** Collect repeated options (`--tag a --tag b`). */
export const collect = (value: string, previous: string[] = []) => [...previous, value];
