import { randomBytes } from 'node:crypto';
import { serialize } from 'pg-protocol';

/**
 * How a policy refusal reaches the client in order. A statement the policy refuses never reaches the
 * database; in its place the gateway sends a statement that raises the refusal as a PostgreSQL error
 * (SQLSTATE and message of our choosing). The server then does exactly what it does for any failing
 * statement: the error arrives after the answers to everything sent before it (pipelining stays in
 * order), an explicit transaction becomes aborted, and an extended-protocol batch is skipped up to its
 * Sync and rolled back. The client sees the usual behaviour of a failed statement, and the upstream's
 * transaction state always matches what the client was told.
 */

/** SQL that raises `message` with `sqlstate` when executed (a DO block; needs nothing but plpgsql). */
export function raisingStatement(sqlstate: string, message: string): string {
  if (!/^[0-9A-Z]{5}$/.test(sqlstate)) throw new Error(`invalid SQLSTATE ${sqlstate}`);
  // A random dollar-quote tag: no text inside the message can close the body early.
  const tag = `$gh_${randomBytes(6).toString('hex')}$`;
  const literal = `'${clean(message).replace(/'/g, "''")}'`;
  return `DO ${tag} BEGIN RAISE EXCEPTION USING ERRCODE = '${sqlstate}', MESSAGE = ${literal}; END ${tag}`;
}

/** A simple-protocol Query that raises the error. */
export function raisingQuery(sqlstate: string, message: string): Buffer {
  return serialize.query(raisingStatement(sqlstate, message));
}

/**
 * Parse + Bind + Execute (unnamed statement and portal) that raise the error in the extended protocol,
 * in place of a refused Parse. The client's own Bind/Execute/Sync that follow are forwarded unchanged:
 * after the error the server skips them up to the Sync.
 */
export function raisingExtended(sqlstate: string, message: string): Buffer {
  const sql = raisingStatement(sqlstate, message);
  return Buffer.concat([serialize.parse({ text: sql }), serialize.bind({}), serialize.execute({})]);
}

/**
 * Message text safe inside a standard string literal: no backslashes (they would matter with
 * standard_conforming_strings off), no control characters, no NUL, bounded length.
 */
function clean(message: string): string {
  // eslint-disable-next-line no-control-regex
  const s = message.replace(/[\u0000-\u001f\u007f\\]/g, ' ');
  return s.length > 2000 ? s.slice(0, 1997) + '...' : s;
}
