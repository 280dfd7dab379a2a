/**
 * A small SQL tokenizer for display only (the approvals inbox, the session page): it splits text into
 * keyword, string, comment, number, identifier and other tokens so the UI can colour them. Nothing is
 * decided from it — policy uses the real PostgreSQL parser. Concatenating the token texts always gives
 * back the input exactly, so highlighted text is the statement as sent.
 */
export type SqlTokenKind = 'keyword' | 'string' | 'comment' | 'number' | 'identifier' | 'other';

export interface SqlToken {
  kind: SqlTokenKind;
  text: string;
}

// Reserved and common PostgreSQL keywords; enough to make statements readable at a glance.
const KEYWORDS = new Set(
  `all alter analyze and any array as asc begin between by call case cast check close cluster comment commit
  constraint copy create cross cursor database deallocate declare default delete desc distinct do drop else end
  except execute exists explain fetch for foreign from full function grant group having if ilike in index inner
  insert intersect into is join key language lateral left like limit listen lock materialized not notify null
  offset on only or order outer over partition prepare primary procedure reassign references refresh reindex
  release rename replace reset returning revoke right role rollback savepoint schema select sequence set show
  similar table tablespace temp temporary then to transaction trigger true false truncate union unique unlisten
  update user using vacuum values view when where window with`.split(/\s+/),
);

/** Split SQL into tokens (see the file comment). Unterminated strings and comments run to the end. */
export function tokenizeSql(sql: string): SqlToken[] {
  const out: SqlToken[] = [];
  const push = (kind: SqlTokenKind, text: string) => {
    const last = out[out.length - 1];
    // Adjacent "other" characters are merged so the DOM stays small.
    if (last && last.kind === kind && kind === 'other') last.text += text;
    else out.push({ kind, text });
  };
  let i = 0;
  const n = sql.length;
  while (i < n) {
    const c = sql[i];
    const next = sql[i + 1];
    if (c === '-' && next === '-') {
      const end = sql.indexOf('\n', i);
      const stop = end < 0 ? n : end;
      push('comment', sql.slice(i, stop));
      i = stop;
    } else if (c === '/' && next === '*') {
      // PostgreSQL block comments nest.
      let depth = 0;
      let j = i;
      while (j < n) {
        if (sql[j] === '/' && sql[j + 1] === '*') {
          depth++;
          j += 2;
        } else if (sql[j] === '*' && sql[j + 1] === '/') {
          depth--;
          j += 2;
          if (depth === 0) break;
        } else j++;
      }
      push('comment', sql.slice(i, j));
      i = j;
    } else if (c === "'" || ((c === 'E' || c === 'e') && next === "'")) {
      const start = i;
      const escapes = c !== "'";
      let j = escapes ? i + 2 : i + 1;
      while (j < n) {
        if (escapes && sql[j] === '\\') j += 2;
        else if (sql[j] === "'" && sql[j + 1] === "'") j += 2;
        else if (sql[j] === "'") {
          j++;
          break;
        } else j++;
      }
      push('string', sql.slice(start, Math.min(j, n)));
      i = Math.min(j, n);
    } else if (c === '$' && /[A-Za-z_$]/.test(next ?? '') && /^\$([A-Za-z_][A-Za-z0-9_]*)?\$/.test(sql.slice(i))) {
      const tag = /^\$([A-Za-z_][A-Za-z0-9_]*)?\$/.exec(sql.slice(i))![0];
      const end = sql.indexOf(tag, i + tag.length);
      const stop = end < 0 ? n : end + tag.length;
      push('string', sql.slice(i, stop));
      i = stop;
    } else if (c === '"') {
      let j = i + 1;
      while (j < n) {
        if (sql[j] === '"' && sql[j + 1] === '"') j += 2;
        else if (sql[j] === '"') {
          j++;
          break;
        } else j++;
      }
      push('identifier', sql.slice(i, Math.min(j, n)));
      i = Math.min(j, n);
    } else if (/[0-9]/.test(c) || (c === '.' && /[0-9]/.test(next ?? ''))) {
      const m = /^(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?/.exec(sql.slice(i))!;
      push('number', m[0]);
      i += m[0].length;
    } else if (/[A-Za-z_\u0080-\uffff]/.test(c)) {
      const m = /^[A-Za-z_\u0080-\uffff][A-Za-z0-9_$\u0080-\uffff]*/.exec(sql.slice(i))!;
      push(KEYWORDS.has(m[0].toLowerCase()) ? 'keyword' : 'identifier', m[0]);
      i += m[0].length;
    } else {
      push('other', c);
      i++;
    }
  }
  return out;
}
