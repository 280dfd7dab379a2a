import { parseShellCommand } from './shell-command';

/**
 * The words of a command line that is one simple command, after quote removal, as a POSIX shell splits
 * them (used to recognise `scp -t PATH`). Null for an unterminated quote, a trailing backslash, or a line
 * that runs several commands (`;`, `&&`, `|` ...), which is not a plain transfer.
 */
export function splitShellWords(line: string): string[] | null {
  const parsed = parseShellCommand(line);
  if (!parsed || parsed.commands.length > 1) return null;
  return parsed.commands[0] ?? [];
}
