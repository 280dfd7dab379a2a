import type { Duplex } from 'node:stream';
import { ProtocolViolation } from './message-framer';

/**
 * Pulls whole packets off a client socket during the startup and authentication phases, before the
 * relay takes over. Limits are strict because the peer is not authenticated yet.
 */
export class HandshakeReader {
  private chunks: Buffer[] = [];
  private size = 0;
  private wake: (() => void) | null = null;
  private failure: Error | null = null;
  private readonly onData = (chunk: Buffer) => {
    this.chunks.push(chunk);
    this.size += chunk.length;
    // An unauthenticated peer gets a bounded buffer: stop reading until we consume.
    if (this.size > 64 * 1024) this.socket.pause();
    this.notify();
  };
  private readonly onEnd = () => this.fail(new ClientGone());
  // A peer that closes is reported as ClientGone; the upstream side maps it to its own error.
  private readonly onError = (err: Error) => this.fail(err);

  constructor(private readonly socket: Duplex) {
    socket.on('data', this.onData);
    socket.on('end', this.onEnd);
    socket.on('close', this.onEnd);
    socket.on('error', this.onError);
    socket.resume();
  }

  /** Bytes received and not consumed yet. */
  get buffered(): number {
    return this.size;
  }

  /** Read an untyped startup-phase packet (int32 length, then body); returns the body. */
  async readStartupPacket(max: number): Promise<Buffer> {
    await this.need(4);
    const len = this.peek(4).readInt32BE(0);
    if (len < 8 || len > max) throw new ProtocolViolation(`invalid startup packet length ${len}`);
    await this.need(len);
    return this.take(len).subarray(4);
  }

  /** Read a typed message; fails unless its type is `expected`. Returns the body. */
  async readMessage(expected: number, max: number): Promise<Buffer> {
    await this.need(5);
    const head = this.peek(5);
    const type = head[0];
    const len = head.readInt32BE(1);
    if (type !== expected) throw new ProtocolViolation(`expected message '${String.fromCharCode(expected)}', got '${String.fromCharCode(type)}'`);
    if (len < 4 || len > max) throw new ProtocolViolation(`invalid message length ${len}`);
    await this.need(len + 1);
    return this.take(len + 1).subarray(5);
  }

  /** Read a typed message of any type (upstream handshake). */
  async readAny(max: number): Promise<{ type: number; body: Buffer; raw: Buffer }> {
    await this.need(5);
    const head = this.peek(5);
    const len = head.readInt32BE(1);
    if (len < 4 || len > max) throw new ProtocolViolation(`invalid message length ${len}`);
    await this.need(len + 1);
    const raw = this.take(len + 1);
    return { type: raw[0], body: raw.subarray(5), raw };
  }

  /** Read a single byte (the answer to SSLRequest). */
  async readByte(): Promise<number> {
    await this.need(1);
    return this.take(1)[0];
  }

  /** Stop reading: detach, pause the socket and return any bytes received but not consumed. */
  release(): Buffer {
    this.socket.pause();
    this.socket.off('data', this.onData);
    this.socket.off('end', this.onEnd);
    this.socket.off('close', this.onEnd);
    this.socket.off('error', this.onError);
    const rest = Buffer.concat(this.chunks);
    this.chunks = [];
    this.size = 0;
    return rest;
  }

  private async need(n: number): Promise<void> {
    while (this.size < n) {
      if (this.failure) throw this.failure;
      this.socket.resume();
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
  }

  private peek(n: number): Buffer {
    if (this.chunks[0].length < n) this.chunks = [Buffer.concat(this.chunks)];
    return this.chunks[0].subarray(0, n);
  }

  private take(n: number): Buffer {
    const all = this.chunks.length === 1 ? this.chunks[0] : Buffer.concat(this.chunks);
    const out = all.subarray(0, n);
    const rest = all.subarray(n);
    this.chunks = rest.length ? [rest] : [];
    this.size = rest.length;
    return out;
  }

  private fail(err: Error): void {
    this.failure ??= err;
    this.notify();
  }

  private notify(): void {
    const w = this.wake;
    this.wake = null;
    w?.();
  }
}

/** The client closed the connection during the handshake. */
export class ClientGone extends Error {
  constructor() {
    super('client closed the connection');
    this.name = 'ClientGone';
  }
}
