// Entry of a child process for store tests that need a real process boundary (SIGKILL, concurrent opens).
// Bundled by test/helpers/store-child-process.ts with esbuild, so it runs the real Store class.
//   open <file>            open (creating and migrating) the store, close it, print "opened"
//   commit <file> <n>      one transaction: a session and n statements; print "committed", then idle
//   stream <file>          transactions of 100 statements, forever; print "committed <i>" after each
import { Store } from '../../src/gateway/store/store';
import type { StatementRecord } from '../../src/gateway/store/records';

const [mode, file, arg] = process.argv.slice(2);

const statements = (sessionId: string, from: number, n: number): StatementRecord[] =>
  Array.from({ length: n }, (_, i) => ({
    sessionId,
    seq: from + i,
    protocol: 'simple',
    sql: `SELECT ${from + i}`,
    paramCount: 0,
    startedAt: 1_700_000_000_000 + from + i,
    durationMs: 0.5,
    commandTag: 'SELECT 1',
    rows: 1,
    errorCode: null,
  }));

const session = (id: string) => ({
  id,
  protocol: 'postgres' as const,
  agentId: 'a1',
  agentName: 'alpha',
  connectionId: 'c1',
  connectionName: 'main',
  clientAddress: '127.0.0.1:1',
  tls: false,
  startedAt: 1_700_000_000_000,
  endedAt: null,
  bytesIn: 0,
  bytesOut: 0,
  endReason: null,
  statementCount: 0,
});

if (mode === 'open') {
  Store.open(file).close();
  process.stdout.write('opened\n');
} else if (mode === 'commit') {
  const store = Store.open(file);
  store.transaction(() => {
    store.sessions.insert(session('killed'));
    store.statements.insertMany(statements('killed', 1, Number(arg)));
  });
  process.stdout.write('committed\n');
  // Stay alive with the store open (no close, no checkpoint) until the parent kills us.
  setInterval(() => {}, 1000);
} else if (mode === 'stream') {
  const store = Store.open(file);
  store.sessions.insert(session('stream'));
  let i = 0;
  const next = () => {
    store.transaction(() => store.statements.insertMany(statements('stream', i * 100 + 1, 100)));
    process.stdout.write(`committed ${i}\n`);
    i++;
    setImmediate(next);
  };
  next();
} else {
  process.stderr.write(`unknown mode ${mode}\n`);
  process.exit(2);
}
