import { appendFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { StatementJournal } from '../../src/gateway/recording/statement-journal';
import type { StatementRecord } from '../../src/gateway/store/records';
import { Store } from '../../src/gateway/store/store';

const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

function setup() {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'gh-journal-'));
  dirs.push(dir);
  const store = Store.open(':memory:');
  store.sessions.insert({
    id: 's1', protocol: 'postgres', agentId: 'a', agentName: 'bot', connectionId: 'c', connectionName: 'app', clientAddress: '127.0.0.1:1',
    tls: false, startedAt: 1, endedAt: null, bytesIn: 0, bytesOut: 0, endReason: null, statementCount: 0,
  });
  return { file: path.join(dir, 'recording.journal'), store };
}

const stmt = (seq: number): StatementRecord => ({
  sessionId: 's1', seq, protocol: 'simple', sql: `select ${seq}`, paramCount: 0, startedAt: 1000 + seq, durationMs: 0.5, commandTag: 'SELECT 1', rows: 1, errorCode: null,
});

describe('StatementJournal', () => {
  it('replays appended statements into the store and empties itself', () => {
    const { file, store } = setup();
    const j = new StatementJournal(file);
    j.append([stmt(1), stmt(2)]);
    j.append([stmt(3)]);
    j.close();
    expect(StatementJournal.replay(file, store)).toBe(3);
    expect(store.statements.listBySession('s1').map((s) => s.sql)).toEqual(['select 1', 'select 2', 'select 3']);
    expect(readFileSync(file, 'utf8')).toBe('');
    expect(StatementJournal.replay(file, store)).toBe(0);
  });

  it('skips statements already in the store and a torn last line', () => {
    const { file, store } = setup();
    store.statements.insertMany([stmt(1)]);
    const j = new StatementJournal(file);
    j.append([stmt(1), stmt(2)]);
    j.close();
    appendFileSync(file, '{"sessionId":"s1","seq":3,"sq');
    StatementJournal.replay(file, store);
    expect(store.statements.listBySession('s1').map((s) => s.seq)).toEqual([1, 2]);
  });

  it('clear() empties the journal so committed records are not replayed twice', () => {
    const { file, store } = setup();
    const j = new StatementJournal(file);
    j.append([stmt(1)]);
    j.clear();
    j.append([stmt(2)]);
    j.close();
    StatementJournal.replay(file, store);
    expect(store.statements.listBySession('s1').map((s) => s.seq)).toEqual([2]);
  });
});
