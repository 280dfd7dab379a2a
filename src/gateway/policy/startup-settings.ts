/**
 * Settings a PostgreSQL client can make in its StartupMessage, before any statement: a parameter named
 * after the setting (`search_path=secrets`) or `options` carrying command-line switches
 * (`-c role=admin`, `--search-path=x`, as libpq's PGOPTIONS sends them). The server applies them as if
 * the session began with SET, so policy must see them as SET statements: a role change there is a role
 * change, and a search_path there decides where unqualified table names resolve.
 */

/** Startup parameters that are not settings. */
const NOT_SETTINGS = new Set(['user', 'database', 'options', 'replication']);

/** Settings policy decides on when they arrive at startup; the rest (client_encoding, DateStyle ...) are harmless. */
const POLICY_SETTINGS = new Set(['role', 'session_authorization', 'search_path']);

/** The settings a StartupMessage makes, in order (names lower-cased, '-' as '_' as the server reads them). */
export function startupSettings(params: ReadonlyMap<string, string>): { name: string; value: string }[] {
  const out: { name: string; value: string }[] = [];
  for (const [k, v] of params) if (!NOT_SETTINGS.has(k) && !k.startsWith('_pq_.')) out.push({ name: k.toLowerCase(), value: v });
  const options = params.get('options');
  if (options) {
    const words = splitOptions(options);
    for (let i = 0; i < words.length; i++) {
      const w = words[i];
      let pair: string | undefined;
      if (w === '-c') pair = words[++i];
      else if (w.startsWith('-c')) pair = w.slice(2);
      else if (w.startsWith('--')) pair = w.slice(2);
      if (!pair) continue;
      const eq = pair.indexOf('=');
      if (eq <= 0) continue;
      out.push({ name: pair.slice(0, eq).toLowerCase().replace(/-/g, '_'), value: pair.slice(eq + 1) });
    }
  }
  return out;
}

/**
 * The startup settings policy must decide, as SQL (`SET role = 'admin'; SET search_path = '...'`), or
 * null when there are none.
 */
export function startupSettingsSql(params: ReadonlyMap<string, string>): string | null {
  const sets = startupSettings(params)
    .filter((s) => POLICY_SETTINGS.has(s.name))
    .map((s) => `SET ${s.name} = '${s.value.replace(/'/g, "''")}'`);
  return sets.length ? sets.join('; ') : null;
}

/** Split `options` the way the server does: on whitespace, a backslash escaping the next character. */
function splitOptions(s: string): string[] {
  const words: string[] = [];
  let cur = '';
  let inWord = false;
  for (let i = 0; i < s.length; i++) {
    const ch = s[i];
    if (ch === '\\' && i + 1 < s.length) {
      cur += s[++i];
      inWord = true;
    } else if (/\s/.test(ch)) {
      if (inWord) words.push(cur);
      cur = '';
      inWord = false;
    } else {
      cur += ch;
      inWord = true;
    }
  }
  if (inWord) words.push(cur);
  return words;
}
