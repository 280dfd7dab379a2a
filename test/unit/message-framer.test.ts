import { describe, expect, it } from 'vitest';
import { MessageFramer, ProtocolViolation, typeSet, type FrameSink } from '../../src/gateway/postgres/message-framer';

function msg(type: string, body: Buffer | string): Buffer {
  const b = typeof body === 'string' ? Buffer.from(body) : body;
  const h = Buffer.alloc(5);
  h[0] = type.charCodeAt(0);
  h.writeInt32BE(b.length + 4, 1);
  return Buffer.concat([h, b]);
}

const stream = Buffer.concat([
  msg('T', 'rowdesc'),
  msg('D', Buffer.alloc(300, 7)),
  msg('D', Buffer.alloc(3, 1)),
  msg('D', ''),
  msg('C', 'SELECT 3\0'),
  msg('Z', 'I'),
  msg('E', ''),
  msg('d', Buffer.alloc(70, 2)),
  msg('Z', 'T'),
]);
const inspected = typeSet(['C'.charCodeAt(0), 'Z'.charCodeAt(0), 'E'.charCodeAt(0)]);

function collect(chunks: Buffer[]) {
  const framer = new MessageFramer(inspected);
  const messages: string[] = [];
  const out: Buffer[] = [];
  const sink: FrameSink = {
    message(type, buf, start, end) {
      const whole = Buffer.from(buf.subarray(start, end));
      messages.push(String.fromCharCode(type) + ':' + whole.subarray(5).toString('latin1'));
      out.push(whole);
    },
    passthrough(buf, start, end) {
      out.push(Buffer.from(buf.subarray(start, end)));
    },
  };
  for (const c of chunks) framer.push(c, sink);
  return { messages, bytes: Buffer.concat(out), atBoundary: framer.atBoundary };
}

describe('MessageFramer', () => {
  const whole = collect([stream]);

  it('delivers inspected messages whole and passes everything else through, in order', () => {
    expect(whole.messages).toEqual(['C:SELECT 3\0', 'Z:I', 'E:', 'Z:T']);
    expect(whole.bytes.equals(stream)).toBe(true);
    expect(whole.atBoundary).toBe(true);
  });

  it('gives the same result for a stream cut at every offset', () => {
    for (let cut = 1; cut < stream.length; cut++) {
      const r = collect([stream.subarray(0, cut), stream.subarray(cut)]);
      expect(r.messages, `cut at ${cut}`).toEqual(whole.messages);
      expect(r.bytes.equals(stream), `cut at ${cut}`).toBe(true);
    }
  });

  it('gives the same result fed one byte at a time, and reports boundaries', () => {
    const chunks = [...stream].map((b) => Buffer.from([b]));
    const r = collect(chunks);
    expect(r.messages).toEqual(whole.messages);
    expect(r.bytes.equals(stream)).toBe(true);
    const partial = collect([stream.subarray(0, 10)]);
    expect(partial.atBoundary).toBe(false);
  });

  it('rejects impossible lengths', () => {
    const framer = new MessageFramer(inspected);
    const bad = Buffer.from([0x51, 0, 0, 0, 2]);
    expect(() => framer.push(bad, { message() {}, passthrough() {} })).toThrow(ProtocolViolation);
    const small = new MessageFramer(inspected, 100);
    expect(() => small.push(msg('C', Buffer.alloc(200)), { message() {}, passthrough() {} })).toThrow(ProtocolViolation);
  });
});
