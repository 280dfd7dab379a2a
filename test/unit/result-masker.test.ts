import { Parser } from 'pg-protocol/dist/parser';
import { describe, expect, it } from 'vitest';
import { errorResponse } from '../../src/gateway/postgres/backend-messages';
import { MalformedMessage, MaskingStateError, ResultMasker, type ColumnRef } from '../../src/gateway/policy/masking/result-masker';
import type { MaskingPlan, MaskStrategy } from '../../src/gateway/policy/policy-types';

// ---- backend messages built by hand (type byte, int32 length, body) -----------------------------------

function message(type: string, body: Buffer): Buffer {
  const head = Buffer.alloc(5);
  head[0] = type.charCodeAt(0);
  head.writeInt32BE(body.length + 4, 1);
  return Buffer.concat([head, body]);
}
const int16 = (n: number) => {
  const b = Buffer.alloc(2);
  b.writeInt16BE(n);
  return b;
};
const int32 = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeInt32BE(n);
  return b;
};
const uint32 = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
};

interface FieldSpec {
  name: string;
  tableOid?: number;
  attnum?: number;
  typeOid?: number;
  format?: number;
}
const TEXT = 25;
const INT4 = 23;
const INT8 = 20;
const JSONB = 3802;
const NUMERIC = 1700;

function rowDescription(fields: FieldSpec[]): Buffer {
  const parts = [int16(fields.length)];
  for (const f of fields) {
    parts.push(Buffer.from(f.name + '\0'), uint32(f.tableOid ?? 0), int16(f.attnum ?? 0), uint32(f.typeOid ?? TEXT), int16(-1), int32(-1), int16(f.format ?? 0));
  }
  return message('T', Buffer.concat(parts));
}

function dataRow(values: (string | Buffer | null)[]): Buffer {
  const parts: Buffer[] = [int16(values.length)];
  for (const v of values) {
    if (v === null) parts.push(int32(-1));
    else {
      const b = typeof v === 'string' ? Buffer.from(v) : v;
      parts.push(int32(b.length), b);
    }
  }
  return message('D', Buffer.concat(parts));
}

/** Decode a DataRow strictly (every length checked) and cross-check with pg-protocol's parser. */
function readRow(msg: Buffer): (Buffer | null)[] {
  expect(msg[0]).toBe(0x44);
  expect(msg.readInt32BE(1)).toBe(msg.length - 1);
  const n = msg.readInt16BE(5);
  const out: (Buffer | null)[] = [];
  let pos = 7;
  for (let i = 0; i < n; i++) {
    const len = msg.readInt32BE(pos);
    pos += 4;
    if (len < 0) out.push(null);
    else {
      out.push(msg.subarray(pos, pos + len));
      pos += len;
    }
  }
  expect(pos).toBe(msg.length);
  const parsed: any[] = [];
  // pg-protocol's parser (text mode: values decoded as UTF-8) must read the same message.
  new Parser().parse(msg, (m) => parsed.push(m));
  expect(parsed).toHaveLength(1);
  expect(parsed[0].name).toBe('dataRow');
  expect(parsed[0].fields).toEqual(out.map((b) => (b === null ? null : b.toString('utf8'))));
  return out;
}
const texts = (msg: Buffer) => readRow(msg).map((b) => (b === null ? null : b.toString('utf8')));

const KEY = Buffer.alloc(32, 7);
const OTHER_KEY = Buffer.alloc(32, 9);
const plan = (p: Partial<MaskingPlan>): MaskingPlan => ({ columns: [], values: [], ...p });
const detectors = (strategy: MaskStrategy = { kind: 'redact' }): MaskingPlan =>
  plan({ values: [{ rule: 'pii', detectors: ['email', 'payment_card', 'us_ssn', 'api_token'], custom: [{ name: 'emp', pattern: 'EMP-\\d{6}' }], strategy }] });

describe('ResultMasker: DataRow', () => {
  it('is inactive for an empty plan', () => {
    expect(new ResultMasker(plan({}), KEY).active).toBe(false);
    expect(new ResultMasker(detectors(), KEY).active).toBe(true);
  });

  it('returns the same Buffer when nothing matches (no allocation), NULLs included', () => {
    const m = new ResultMasker(detectors(), KEY);
    m.rowDescription(rowDescription([{ name: 'name' }, { name: 'note' }, { name: 'n', typeOid: INT4 }]));
    const row = dataRow(['Alice Johnson', null, '42']);
    expect(m.dataRow(row)).toBe(row);
    expect(m.takeCounts()).toEqual({});
  });

  it('masks detector hits inside text values and rebuilds lengths', () => {
    const m = new ResultMasker(detectors(), KEY);
    m.rowDescription(rowDescription([{ name: 'id', typeOid: INT4 }, { name: 'note' }, { name: 'empty' }, { name: 'card' }]));
    const out = m.dataRow(dataRow(['7', 'mail alice@example.com or EMP-123456 today', null, '4111 1111 1111 1111']));
    expect(texts(out)).toEqual(['7', 'mail [email redacted] or [emp redacted] today', null, '[payment_card redacted]']);
    expect(m.takeCounts()).toEqual({ 'pii:email': 1, 'pii:emp': 1, 'pii:payment_card': 1 });
    expect(m.takeCounts()).toEqual({});
  });

  it('partial keeps the last characters and separators; hash is deterministic and keyed; null nulls the value', () => {
    const desc = rowDescription([{ name: 'note' }]);
    const run = (strategy: MaskStrategy, value: string, key = KEY) => {
      const m = new ResultMasker(detectors(strategy), key);
      m.rowDescription(desc);
      return texts(m.dataRow(dataRow([value])))[0];
    };
    expect(run({ kind: 'partial', keep: 4 }, 'card 4111-1111-1111-1111 ok')).toBe('card ****-****-****-1111 ok');
    const h1 = run({ kind: 'hash' }, 'from alice@example.com');
    expect(h1).toMatch(/^from tok_[0-9a-f]{16}$/);
    expect(run({ kind: 'hash' }, 'to alice@example.com')).toBe(h1!.replace('from', 'to'));
    expect(run({ kind: 'hash' }, 'from bob@example.com')).not.toBe(h1);
    expect(run({ kind: 'hash' }, 'from alice@example.com', OTHER_KEY)).not.toBe(h1);
    expect(run({ kind: 'null' }, 'from alice@example.com')).toBeNull();
  });

  it('column rules by name glob and by resolved table.column; aliases resolve to their source', () => {
    const catalog = new Map<string, ColumnRef>([
      ['100:2', { schema: 'public', table: 'users', column: 'email' }],
      ['100:3', { schema: 'public', table: 'users', column: 'ssn' }],
      ['200:1', { schema: 'billing', table: 'cards', column: 'number' }],
    ]);
    const m = new ResultMasker(
      plan({
        columns: [
          { rule: 'emails', columns: ['email', '*_email'], strategy: { kind: 'hash' } },
          { rule: 'ssn', columns: ['public.users.ssn'], strategy: { kind: 'redact' } },
          { rule: 'cards', columns: ['cards.number'], strategy: { kind: 'partial', keep: 4 } },
        ],
      }),
      KEY,
      (oid, attnum) => catalog.get(`${oid}:${attnum}`),
    );
    const desc = rowDescription([
      { name: 'e', tableOid: 100, attnum: 2 },
      { name: 'backup_email' },
      { name: 'x', tableOid: 100, attnum: 3 },
      { name: 'number', tableOid: 200, attnum: 1 },
      { name: 'number' },
    ]);
    expect(m.catalogLookups(desc)).toEqual([
      { oid: 100, attnum: 2 },
      { oid: 100, attnum: 3 },
      { oid: 200, attnum: 1 },
    ]);
    m.rowDescription(desc);
    const out = texts(m.dataRow(dataRow(['alice@example.com', 'bob@example.com', '123-45-6789', '4111111111111111', '4111111111111111'])));
    expect(out[0]).toMatch(/^tok_[0-9a-f]{16}$/);
    expect(out[1]).toMatch(/^tok_[0-9a-f]{16}$/);
    expect(out[2]).toBe('[redacted]');
    expect(out[3]).toBe('************1111');
    // Same name, but an expression (no table): only name patterns apply, and `cards.number` is qualified.
    expect(out[4]).toBe('4111111111111111');
    expect(m.takeCounts()).toEqual({ 'emails:column': 2, 'ssn:column': 1, 'cards:column': 1 });
  });

  it('fails closed for table columns the catalog could not resolve: qualified rules apply, name rules by name', () => {
    const rules = plan({
      columns: [
        { rule: 'soft', columns: ['notes'], strategy: { kind: 'partial', keep: 2 } },
        { rule: 'hard', columns: ['secret.value'], strategy: { kind: 'redact' } },
      ],
    });
    for (const resolver of [() => undefined, undefined]) {
      const m = new ResultMasker(rules, KEY, resolver);
      m.rowDescription(rowDescription([{ name: 'value', tableOid: 555, attnum: 1 }, { name: 'expr' }, { name: 'notes' }]));
      expect(texts(m.dataRow(dataRow(['s3cr3t', 'computed', 'abcd'])))).toEqual(['[redacted]', 'computed', '**cd']);
      expect(m.takeCounts()).toEqual({ 'hard:column': 1, 'soft:column': 1 });
    }
    // With name patterns only, an unresolved column is matched on its name alone.
    const names = new ResultMasker(plan({ columns: [rules.columns[0]] }), KEY);
    names.rowDescription(rowDescription([{ name: 'value', tableOid: 555, attnum: 1 }, { name: 'notes', tableOid: 555, attnum: 2 }]));
    expect(texts(names.dataRow(dataRow(['plain', 'abcd'])))).toEqual(['plain', '**cd']);
  });

  it('a column rule wins over detectors for its column; other columns still get the detectors', () => {
    const m = new ResultMasker(
      plan({
        columns: [{ rule: 'notes', columns: ['notes'], strategy: { kind: 'redact' } }],
        values: detectors().values,
      }),
      KEY,
    );
    m.rowDescription(rowDescription([{ name: 'notes' }, { name: 'other' }]));
    expect(texts(m.dataRow(dataRow(['bob@example.com', 'bob@example.com'])))).toEqual(['[redacted]', '[email redacted]']);
    expect(m.takeCounts()).toEqual({ 'notes:column': 1, 'pii:email': 1 });
  });

  it('non-text types: a column rule gives NULL; a detector hit in a number (text format) gives NULL', () => {
    const m = new ResultMasker(plan({ columns: [{ rule: 'ids', columns: ['id'], strategy: { kind: 'redact' } }], values: detectors().values }), KEY);
    m.rowDescription(rowDescription([{ name: 'id', typeOid: INT4 }, { name: 'cardnum', typeOid: INT8 }, { name: 'small', typeOid: INT8 }]));
    expect(texts(m.dataRow(dataRow(['12', '4111111111111111', '42'])))).toEqual([null, null, '42']);
  });

  it('binary format: text-like types masked as text, jsonb keeps its version byte, others NULL under a column rule', () => {
    const m = new ResultMasker(
      plan({ columns: [{ rule: 'ids', columns: ['id'], strategy: { kind: 'hash' } }], values: detectors().values }),
      KEY,
    );
    m.rowDescription(rowDescription([
      { name: 'id', typeOid: INT4, format: 1 },
      { name: 'note', typeOid: TEXT, format: 1 },
      { name: 'doc', typeOid: JSONB, format: 1 },
      { name: 'n', typeOid: INT4, format: 1 },
    ]));
    const jsonb = Buffer.concat([Buffer.from([1]), Buffer.from('{"email": "alice@example.com"}')]);
    const row = readRow(m.dataRow(dataRow([int32(5), Buffer.from('hi bob@example.com'), jsonb, int32(77)])));
    expect(row[0]).toBeNull();
    expect(row[1]!.toString()).toBe('hi [email redacted]');
    expect(row[2]![0]).toBe(1);
    expect(JSON.parse(row[2]!.subarray(1).toString())).toEqual({ email: '[email redacted]' });
    expect(row[3]!.readInt32BE(0)).toBe(77);
  });

  it('binary int8 and numeric holding a card number become NULL', () => {
    const m = new ResultMasker(detectors(), KEY);
    m.rowDescription(rowDescription([{ name: 'a', typeOid: INT8, format: 1 }, { name: 'b', typeOid: NUMERIC, format: 1 }, { name: 'c', typeOid: INT8, format: 1 }]));
    const big = Buffer.alloc(8);
    big.writeBigInt64BE(4111111111111111n);
    // numeric 4111111111111111 = base-10000 digits 4111 1111 1111 1111, weight 3
    const num = Buffer.concat([int16(4), int16(3), int16(0), int16(0), int16(4111), int16(1111), int16(1111), int16(1111)]);
    const small = Buffer.alloc(8);
    small.writeBigInt64BE(12345n);
    expect(readRow(m.dataRow(dataRow([big, num, small])))).toEqual([null, null, small]);
  });

  it('Bind result formats decide text vs binary after Describe(statement); useShape restores an earlier statement', () => {
    const m = new ResultMasker(detectors(), KEY);
    const s1 = m.rowDescription(rowDescription([{ name: 'n', typeOid: INT8 }]));
    const s2 = m.rowDescription(rowDescription([{ name: 'note' }, { name: 'other' }]));
    // Bind for statement 1 with binary results: the row is binary int8.
    m.useShape(s1, [1]);
    const big = Buffer.alloc(8);
    big.writeBigInt64BE(4111111111111111n);
    expect(readRow(m.dataRow(dataRow([big])))).toEqual([null]);
    // The same bytes read as text would not be a card; with text results the text is checked.
    m.useShape(s1, [0]);
    expect(texts(m.dataRow(dataRow(['4111111111111111'])))).toEqual([null]);
    m.useShape(s2);
    m.setResultFormats([0, 1]);
    expect(texts(m.dataRow(dataRow(['x@example.com', 'y@example.com'])))).toEqual(['[email redacted]', '[email redacted]']);
    expect(() => m.dataRow(dataRow(['only one column']))).toThrow(MalformedMessage);
  });

  it('rows without a RowDescription: detectors still run (hits NULL); with column rules it is a state error', () => {
    const m = new ResultMasker(detectors(), KEY);
    expect(texts(m.dataRow(dataRow(['hello', 'x@example.com'])))).toEqual(['hello', null]);
    const c = new ResultMasker(plan({ columns: [{ rule: 'r', columns: ['x'], strategy: { kind: 'redact' } }] }), KEY);
    expect(() => c.dataRow(dataRow(['a']))).toThrow(MaskingStateError);
  });

  it('json that would not parse after masking becomes NULL; column rules on json give a JSON string', () => {
    const m = new ResultMasker(plan({ columns: [{ rule: 'd', columns: ['doc'], strategy: { kind: 'redact' } }], values: detectors().values }), KEY);
    m.rowDescription(rowDescription([{ name: 'j', typeOid: 114 }, { name: 'doc', typeOid: 114 }]));
    expect(texts(m.dataRow(dataRow(['{"card": 4111111111111111}', '{"a": 1}'])))).toEqual([null, '"[redacted]"']);
  });

  it('rejects malformed rows instead of forwarding them', () => {
    const m = new ResultMasker(detectors(), KEY);
    m.rowDescription(rowDescription([{ name: 'a' }]));
    const row = dataRow(['abc']);
    expect(() => m.dataRow(row.subarray(0, row.length - 1))).toThrow(MalformedMessage);
    const lying = Buffer.from(row);
    lying.writeInt32BE(100, 7);
    expect(() => m.dataRow(lying)).toThrow(MalformedMessage);
  });
});

describe('ResultMasker: random rows', () => {
  it('every masked row parses with consistent lengths; rows without hits come back as the same Buffer', () => {
    let seed = 1;
    const rand = (n: number) => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) % n);
    const pieces = ['Zoë', 'a@example.com', '4111 1111 1111 1111', '123-45-6789', 'plain words', '', '\t\n', 'ghp_A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8', '日本語'];
    const m = new ResultMasker(detectors(), KEY);
    m.rowDescription(rowDescription([{ name: 'a' }, { name: 'b' }, { name: 'c' }]));
    for (let i = 0; i < 500; i++) {
      const values = Array.from({ length: 3 }, () => (rand(6) === 0 ? null : Array.from({ length: rand(4) }, () => pieces[rand(pieces.length)]).join(' ')));
      const row = dataRow(values);
      const out = m.dataRow(row);
      const decoded = texts(out);
      decoded.forEach((v, j) => {
        expect(v === null).toBe(values[j] === null);
        if (v !== null) expect(v).not.toMatch(/a@example\.com|4111 1111|123-45-6789|ghp_/);
      });
      if (values.every((v) => v === null || !/@|4111|123-45|ghp_/.test(v))) expect(out).toBe(row);
    }
  });

  it('pathological values (long digit runs, many @ and colons, huge tokens) finish: no catastrophic backtracking', () => {
    const m = new ResultMasker(
      plan({ values: [{ rule: 'all', detectors: ['email', 'phone', 'payment_card', 'iban', 'us_ssn', 'ipv4', 'ipv6', 'jwt', 'aws_access_key', 'pem_private_key', 'api_token'], custom: [], strategy: { kind: 'redact' } }] }),
      KEY,
    );
    m.rowDescription(rowDescription([{ name: 'x' }]));
    const nasty = [
      '1 '.repeat(20_000),
      '+1-'.repeat(10_000),
      'a@'.repeat(20_000) + 'x',
      'a.'.repeat(20_000) + '@',
      ':a'.repeat(20_000),
      'a'.repeat(50_000) + ': x :',
      'AKIA'.repeat(10_000),
      'DE89 '.repeat(10_000),
      '-----BEGIN '.repeat(5_000),
      'eyJ'.repeat(10_000) + '.a.b',
      'x'.repeat(100_000),
    ];
    for (const v of nasty) expect(texts(m.dataRow(dataRow([v]))).length).toBe(1);
  });
});

describe('ResultMasker: binary values of other types', () => {
  it('a detector hit in the bytes of a binary array, record or user type gives NULL; fixed-size types are skipped', () => {
    const m = new ResultMasker(detectors(), KEY);
    const TEXT_ARRAY = 1009;
    const ENUMISH = 16500;
    m.rowDescription(rowDescription([{ name: 'a', typeOid: TEXT_ARRAY, format: 1 }, { name: 'u', typeOid: ENUMISH, format: 1 }, { name: 'n', typeOid: INT4, format: 1 }, { name: 'ok', typeOid: TEXT_ARRAY, format: 1 }]));
    const arr = Buffer.concat([int32(1), int32(0), uint32(25), int32(1), int32(1), int32(15), Buffer.from('ada@example.com')]);
    const clean = Buffer.concat([int32(1), int32(0), uint32(25), int32(1), int32(1), int32(5), Buffer.from('hello')]);
    const out = readRow(m.dataRow(dataRow([arr, Buffer.from('bob@example.org'), int32(7), clean])));
    expect(out[0]).toBeNull();
    expect(out[1]).toBeNull();
    expect(out[2]).toEqual(int32(7));
    expect(out[3]).toEqual(clean);
  });
});

describe('ResultMasker: COPY TO STDOUT', () => {
  const copyOut = (format: number, n: number) => message('H', Buffer.concat([Buffer.from([format]), int16(n), ...Array.from({ length: n }, () => int16(format))]));
  const copyData = (s: string) => message('d', Buffer.from(s));
  const body = (msg: Buffer) => {
    expect(msg.readInt32BE(1)).toBe(msg.length - 1);
    return msg.subarray(5).toString();
  };

  it('text format: tabs, escapes and \\N survive; only hit fields change', () => {
    const m = new ResultMasker(detectors(), KEY);
    expect(m.copyOutResponse(copyOut(0, 3))).toBe('ok');
    const plain = copyData('1\tAlice\t\\N\n');
    expect(m.copyData(plain)).toBe(plain);
    expect(body(m.copyData(copyData('2\tline1\\nmail bob@example.com\\tx\t\\N\n')))).toBe('2\tline1\\nmail [email redacted]\\tx\t\\N\n');
  });

  it('text format with null strategy writes \\N; column names apply column rules', () => {
    const m = new ResultMasker(plan({ columns: [{ rule: 'n', columns: ['name'], strategy: { kind: 'partial', keep: 2 } }], values: detectors({ kind: 'null' }).values }), KEY);
    m.copyOutResponse(copyOut(0, 3), { format: 'text', columns: ['id', 'name', 'note'] });
    expect(body(m.copyData(copyData('1\tAlice\tto a@example.com\n')))).toBe('1\t***ce\t\\N\n');
    expect(m.takeCounts()).toEqual({ 'n:column': 1, 'pii:email': 1 });
  });

  it('csv: quoted fields with commas, quotes and newlines; empty string vs NULL', () => {
    const m = new ResultMasker(detectors(), KEY);
    m.copyOutResponse(copyOut(0, 4), { format: 'csv' });
    const line = '1,"Smith, Alice ""Al""","multi\nline bob@example.com",\n';
    expect(body(m.copyData(copyData(line)))).toBe('1,"Smith, Alice ""Al""",multi\nline [email redacted],\n'.replace('multi\nline [email redacted]', '"multi\nline [email redacted]"'));
    expect(body(m.copyData(copyData('2,"",x@example.com,\n')))).toBe('2,"",[email redacted],\n');
  });

  it('custom delimiter and null string; escaped delimiters and octal escapes in text format', () => {
    const m = new ResultMasker(detectors({ kind: 'null' }), KEY);
    m.copyOutResponse(copyOut(0, 3), { format: 'text', delimiter: '|', null: 'NULL' });
    // "a\|b" is one field holding "a|b"; \100 is '@' in octal.
    expect(body(m.copyData(copyData('a\\|b|bob\\100example.com|NULL\n')))).toBe('a\\|b|NULL|NULL\n');
    const csv = new ResultMasker(detectors(), KEY);
    csv.copyOutResponse(copyOut(0, 2), { format: 'csv', delimiter: ';', quote: "'" });
    expect(body(csv.copyData(copyData("'x;y';'mail; bob@example.com'\n")))).toBe("'x;y';'mail; [email redacted]'\n");
  });

  it('column rules reach COPY: by the column list and table, and without a list every field gets the strictest rule that may apply', () => {
    const rules = plan({
      columns: [
        { rule: 'email', columns: ['public.customers.email'], strategy: { kind: 'redact' } },
        { rule: 'name', columns: ['customers.name'], strategy: { kind: 'partial', keep: 2 } },
      ],
    });
    const m = new ResultMasker(rules, KEY);
    m.copyOutResponse(copyOut(0, 3), { format: 'text', columns: ['id', 'name', 'email'], table: 'customers' });
    expect(body(m.copyData(copyData('1\tAda\tada@x.org\n')))).toMatch(/^1\t\*+a\t\[redacted\]\n$/);
    // COPY customers TO STDOUT (no list): every field as the strictest rule for customers.
    m.copyOutResponse(copyOut(0, 2), { format: 'text', table: 'customers' });
    expect(body(m.copyData(copyData('1\tAda\n')))).toBe('[redacted]\t[redacted]\n');
    // A table no rule can apply to keeps its values; an unknown source (several COPYs) gets the strictest of all.
    m.copyOutResponse(copyOut(0, 2), { format: 'text', table: 'orders' });
    const order = copyData('1\tAda\n');
    expect(m.copyData(order)).toBe(order);
    m.copyOutResponse(copyOut(0, 1), { format: 'text' });
    expect(body(m.copyData(copyData('x\n')))).toBe('[redacted]\n');
    // COPY (query) reads customers: as for the table; the HEADER row only goes through the detectors.
    m.copyOutResponse(copyOut(0, 2), { format: 'csv', sources: ['public.customers'], header: true });
    const header = copyData('id,name\n');
    expect(m.copyData(header)).toBe(header);
    expect(body(m.copyData(copyData('1,Ada\n')))).toBe('[redacted],[redacted]\n');
  });

  it('binary COPY is refused while masking is active, fine without masking', () => {
    expect(new ResultMasker(detectors(), KEY).copyOutResponse(copyOut(1, 2))).toBe('refuse');
    expect(new ResultMasker(plan({}), KEY).copyOutResponse(copyOut(1, 2))).toBe('ok');
  });
});

describe('ResultMasker: NOTICE and ERROR', () => {
  const fields = (msg: Buffer): Record<string, string> => {
    const parsed: any[] = [];
    new Parser().parse(msg, (m) => parsed.push(m));
    expect(parsed).toHaveLength(1);
    return parsed[0];
  };

  it('masks detector hits in message/detail/hint and column values in Key (...)=(...) details', () => {
    const m = new ResultMasker(
      plan({ columns: [{ rule: 'uname', columns: ['username'], strategy: { kind: 'redact' } }], values: detectors().values }),
      KEY,
    );
    const dup = errorResponse({ severity: 'ERROR', code: '23505', message: 'duplicate key value violates unique constraint "users_email_key"', detail: 'Key (email)=(alice@example.com) already exists.' });
    const out = fields(m.noticeOrError(dup)) as any;
    expect(out.detail).toBe('Key (email)=([email redacted]) already exists.');
    expect(out.code).toBe('23505');
    const byColumn = errorResponse({ severity: 'ERROR', code: '23505', message: 'dup', detail: 'Key (username)=(alice (the admin)) already exists.' });
    expect((fields(m.noticeOrError(byColumn)) as any).detail).toBe('Key (username)=([redacted]) already exists.');
    const failing = errorResponse({ severity: 'ERROR', code: '23502', message: 'null value', detail: 'Failing row contains (1, secret, null).' });
    expect((fields(m.noticeOrError(failing)) as any).detail).toBe('Failing row contains ([redacted]).');
    const notice = errorResponse({ severity: 'NOTICE', code: '00000', message: 'user 123-45-6789 updated', hint: 'token ghp_A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8' }, true);
    const n = fields(m.noticeOrError(notice)) as any;
    expect(n.name).toBe('notice');
    expect(n.message).toBe('user [us_ssn redacted] updated');
    expect(n.hint).toBe('token [api_token redacted]');
  });

  it('with column rules, a data exception (class 22) or failed name lookup (class 42) loses the value it quotes', () => {
    const m = new ResultMasker(plan({ columns: [{ rule: 'n', columns: ['customers.name'], strategy: { kind: 'redact' } }] }), KEY);
    const e = errorResponse({ severity: 'ERROR', code: '22P02', message: 'invalid input syntax for type integer: "Ada "the" Lovelace"' });
    expect((fields(m.noticeOrError(e)) as any).message).toBe('invalid input syntax for type integer: "[redacted]"');
    const lookup = errorResponse({ severity: 'ERROR', code: '42P01', message: 'relation "Ada Lovelace" does not exist' });
    expect((fields(m.noticeOrError(lookup)) as any).message).toBe('relation "[redacted]" does not exist');
    const other = errorResponse({ severity: 'ERROR', code: '23505', message: 'duplicate key value violates unique constraint "c_pkey"' });
    expect(m.noticeOrError(other)).toBe(other);
  });

  it('reported settings go through the detectors (ParameterStatus)', () => {
    const m = new ResultMasker(detectors(), KEY);
    const status = (name: string, value: string) => message('S', Buffer.from(`${name}\0${value}\0`));
    const parsed: any[] = [];
    new Parser().parse(m.parameterStatus(status('application_name', 'x ada@example.com')), (x) => parsed.push(x));
    expect(parsed[0]).toMatchObject({ name: 'parameterStatus', parameterName: 'application_name', parameterValue: 'x [email redacted]' });
    const clean = status('TimeZone', 'UTC');
    expect(m.parameterStatus(clean)).toBe(clean);
  });

  it('NOTIFY payloads go through the detectors (NotificationResponse)', () => {
    const m = new ResultMasker(detectors(), KEY);
    const notify = (channel: string, payload: string) => message('A', Buffer.concat([int32(42), Buffer.from(`${channel}\0${payload}\0`)]));
    const parsed: any[] = [];
    new Parser().parse(m.notification(notify('leak', 'mail ada@example.com')), (x) => parsed.push(x));
    expect(parsed[0]).toMatchObject({ name: 'notification', processId: 42, channel: 'leak', payload: 'mail [email redacted]' });
    const clean = notify('c', 'nothing');
    expect(m.notification(clean)).toBe(clean);
    expect(() => m.notification(message('A', Buffer.from([0, 0, 0, 1, 0x61])))).toThrow(MalformedMessage);
  });

  it('null strategy renders as the marker in messages; unchanged messages are returned as they are', () => {
    const m = new ResultMasker(detectors({ kind: 'null' }), KEY);
    const e = errorResponse({ severity: 'ERROR', code: 'P0001', message: 'bad a@example.com' });
    expect((fields(m.noticeOrError(e)) as any).message).toBe('bad [email redacted]');
    const clean = errorResponse({ severity: 'ERROR', code: '42P01', message: 'relation "x" does not exist' });
    expect(m.noticeOrError(clean)).toBe(clean);
  });
});
