import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrations } from '../../src/gateway/store/migrations';
import { Store } from '../../src/gateway/store/store';
import { buildStoreChild, startStoreChild, type StoreChild } from '../helpers/store-child-process';

let work: string;
let bundle: string;
const children: StoreChild[] = [];

beforeAll(async () => {
  work = mkdtempSync(path.join(os.tmpdir(), 'gh-durability-'));
  bundle = await buildStoreChild(work);
});

afterAll(() => {
  for (const c of children) if (c.child.exitCode === null && c.child.signalCode === null) c.child.kill('SIGKILL');
  rmSync(work, { recursive: true, force: true });
});

const start = (args: string[]) => {
  const c = startStoreChild(bundle, args);
  children.push(c);
  return c;
};

const dbFile = (name: string) => path.join(work, `${name}.db`);

describe('store durability across SIGKILL (WAL + synchronous=NORMAL)', () => {
  it('keeps a transaction that returned from commit before the process was killed', async () => {
    const file = dbFile('commit');
    const child = start(['commit', file, '1000']);
    await child.waitFor(/^committed$/m);
    child.child.kill('SIGKILL');
    expect(await child.exited).toEqual({ code: null, signal: 'SIGKILL' });

    const store = Store.open(file);
    try {
      expect(store.statements.countBySession('killed')).toBe(1000);
      const last = store.statements.listBySession('killed', { afterSeq: 999 });
      expect(last.map((s) => s.sql)).toEqual(['SELECT 1000']);
      // The session was left open by the kill; start-up closes it with its recorded count.
      expect(store.sessions.get('killed')?.endedAt).toBeNull();
      expect(store.sessions.closeOrphans(1)).toBe(1);
      expect(store.sessions.get('killed')).toMatchObject({ endReason: 'gateway_crashed', statementCount: 1000 });
    } finally {
      store.close();
    }
  });

  it('a kill in the middle of a stream of commits keeps every acknowledged batch, and no partial one', async () => {
    const file = dbFile('stream');
    const child = start(['stream', file]);
    await child.waitFor(/^committed 30$/m);
    child.child.kill('SIGKILL');
    await child.exited;
    const acknowledged = [...child.output().matchAll(/^committed (\d+)$/gm)].length;
    expect(acknowledged).toBeGreaterThanOrEqual(31);

    const store = Store.open(file);
    try {
      const n = store.statements.countBySession('stream');
      // Every batch the child saw committed is there; the one in flight at the kill is all or nothing.
      expect(n).toBeGreaterThanOrEqual(acknowledged * 100);
      expect(n % 100).toBe(0);
      const seqs = store.statements.listBySession('stream').map((s) => s.seq);
      expect(seqs).toEqual(Array.from({ length: n }, (_, i) => i + 1));
    } finally {
      store.close();
    }
  });
});

describe('store creation by several processes at once', () => {
  it('migrates a new file exactly once while the others wait for it', async () => {
    const file = dbFile('race');
    // Several rounds on fresh files: a lost race shows up as "table ... already exists" in a child.
    for (let round = 0; round < 3; round++) {
      const f = `${file}.${round}`;
      const racers = Array.from({ length: 4 }, () => start(['open', f]));
      const results = await Promise.all(racers.map((r) => r.exited));
      for (const [i, r] of results.entries()) expect({ i, ...r, out: racers[i].output() }).toEqual({ i, code: 0, signal: null, out: 'opened\n' });
      const store = Store.open(f);
      expect(store.db.pragma('user_version', { simple: true })).toBe(migrations.at(-1)!.version);
      store.close();
    }
  });
});
