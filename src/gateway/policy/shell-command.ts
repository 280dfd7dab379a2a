/**
 * A command line as a POSIX shell would see it, for policy decisions on SSH exec requests: the simple
 * commands it runs (split at ; & | && || newlines and parentheses), each as its words after quote
 * removal. What the shell would compute at run time and the policy therefore cannot see (command or
 * process substitution, a program name from a variable or glob) is reported as `uncheckable` so the
 * caller can fail closed.
 */
export interface ShellCommandLine {
  commands: string[][];
  /** Why the line cannot be checked word by word, or null. */
  uncheckable: string | null;
}

/** Parse a command line; null for an unterminated quote or a trailing backslash. */
export function parseShellCommand(line: string): ShellCommandLine | null {
  const commands: string[][] = [];
  let words: string[] = [];
  let word = '';
  let inWord = false;
  let dynamic = false;
  let uncheckable: string | null = null;
  const flag = (why: string) => (uncheckable ??= why);
  const endWord = () => {
    if (inWord) {
      if (dynamic && words.length === 0) flag('its program name is computed by the shell ($variable or glob)');
      words.push(word);
    }
    word = '';
    inWord = false;
    dynamic = false;
  };
  const endCommand = () => {
    endWord();
    if (words.length) commands.push(words);
    words = [];
  };
  let i = 0;
  while (i < line.length) {
    const c = line[i];
    const next = line[i + 1];
    if (c === "'") {
      const end = line.indexOf("'", i + 1);
      if (end < 0) return null;
      word += line.slice(i + 1, end);
      inWord = true;
      i = end + 1;
    } else if (c === '"') {
      i++;
      for (;;) {
        if (i >= line.length) return null;
        const d = line[i];
        if (d === '"') break;
        if (d === '\\' && i + 1 < line.length && '"\\$`\n'.includes(line[i + 1])) {
          if (line[i + 1] !== '\n') word += line[i + 1];
          i += 2;
          continue;
        }
        if (d === '`' || (d === '$' && line[i + 1] === '(')) flag('it uses command substitution');
        if (d === '$') dynamic = true;
        word += d;
        i++;
      }
      inWord = true;
      i++;
    } else if (c === '\\') {
      if (i + 1 >= line.length) return null;
      if (next !== '\n') {
        word += next;
        inWord = true;
      }
      i += 2;
    } else if (c === '`' || (c === '$' && next === '(')) {
      flag('it uses command substitution');
      word += c;
      inWord = true;
      i++;
    } else if ((c === '<' || c === '>') && next === '(') {
      flag('it uses process substitution');
      word += c;
      inWord = true;
      i++;
    } else if (c === ';' || c === '&' || c === '|' || c === '\n' || c === '(' || c === ')') {
      endCommand();
      i++;
    } else if (c === ' ' || c === '\t' || c === '\r') {
      endWord();
      i++;
    } else {
      if (c === '$' || c === '*' || c === '?' || c === '[') dynamic = true;
      word += c;
      inWord = true;
      i++;
    }
  }
  endCommand();
  return { commands, uncheckable };
}

/** Words that start a compound command or negate one: the program is what follows. */
const KEYWORDS = new Set(['!', '{', '}', 'if', 'then', 'else', 'elif', 'fi', 'do', 'done', 'while', 'until', 'time']);

/** Programs that run another program given in their arguments, with their options that take a value. */
const WRAPPERS: Record<string, { valued: Set<string>; positional?: number }> = {
  sudo: { valued: new Set(['-u', '-g', '-C', '-D', '-h', '-p', '-r', '-t', '-U', '-R']) },
  doas: { valued: new Set(['-u', '-C']) },
  env: { valued: new Set(['-u', '-C', '-S']) },
  nice: { valued: new Set(['-n']) },
  ionice: { valued: new Set(['-c', '-n', '-p']) },
  nohup: { valued: new Set() },
  exec: { valued: new Set(['-a']) },
  command: { valued: new Set() },
  builtin: { valued: new Set() },
  time: { valued: new Set(['-f', '-o']) },
  timeout: { valued: new Set(['-s', '-k', '--signal', '--kill-after']), positional: 1 },
  xargs: { valued: new Set(['-I', '-i', '-n', '-P', '-L', '-l', '-s', '-d', '-E', '-a']) },
  stdbuf: { valued: new Set(['-i', '-o', '-e']) },
  chroot: { valued: new Set(), positional: 1 },
  watch: { valued: new Set(['-n', '-d']) },
};

/** Shells whose `-c STRING` runs another command line. */
const SHELLS = new Set(['sh', 'bash', 'dash', 'zsh', 'ksh', 'ash', 'busybox']);

/** One program invocation found in a command line: the program's base name and its arguments. */
export interface ProgramCall {
  program: string;
  args: string[];
}

/**
 * Every program a command line would run that can be seen statically: each simple command's program,
 * and behind wrappers (sudo, env, nice, timeout, xargs ...) and `sh -c '...'` the programs they start.
 * Variable assignments before a command are skipped. `uncheckable` is carried over from the parse.
 */
export function programCalls(line: string, depth = 0): { calls: ProgramCall[]; uncheckable: string | null } | null {
  const parsed = parseShellCommand(line);
  if (!parsed) return null;
  const calls: ProgramCall[] = [];
  let uncheckable = parsed.uncheckable;
  for (const cmd of parsed.commands) {
    let words = cmd;
    while (words.length) {
      while (words.length && (KEYWORDS.has(words[0]) || /^[A-Za-z_][A-Za-z0-9_]*=/.test(words[0]))) words = words.slice(1);
      if (!words.length) break;
      const program = words[0].slice(words[0].lastIndexOf('/') + 1);
      const args = words.slice(1);
      calls.push({ program, args });
      if (SHELLS.has(program)) {
        const c = args.findIndex((a) => /^-[a-z]*c[a-z]*$/i.test(a));
        if (c >= 0 && args[c + 1] !== undefined) {
          if (depth > 4) uncheckable ??= 'it nests shells too deeply';
          else {
            const inner = programCalls(args[c + 1], depth + 1);
            if (!inner) uncheckable ??= 'a nested shell command has an unterminated quote';
            else {
              calls.push(...inner.calls);
              uncheckable ??= inner.uncheckable;
            }
          }
        }
        break;
      }
      const wrapper = WRAPPERS[program];
      if (!wrapper) break;
      let j = 1;
      let positional = wrapper.positional ?? 0;
      while (j < words.length) {
        const w = words[j];
        if (w === '--') {
          j++;
          break;
        }
        if (w.startsWith('-') && w.length > 1) {
          j += wrapper.valued.has(w) ? 2 : 1;
        } else if (program === 'env' && /^[A-Za-z_][A-Za-z0-9_]*=/.test(w)) {
          j++;
        } else if (positional > 0) {
          positional--;
          j++;
        } else break;
      }
      words = words.slice(j);
    }
  }
  return { calls, uncheckable };
}
