import type { Socket } from 'node:net';
import { TLSSocket, type SecureContext } from 'node:tls';
import { negotiateProtocolVersion } from './backend-messages';
import { readCString } from './frontend-messages';
import { HandshakeReader } from './handshake-reader';
import { ProtocolViolation } from './message-framer';
import { MAX_STARTUP_PACKET, StartupCode } from './protocol-codes';

export type StartupOutcome =
  | { kind: 'startup'; socket: Socket | TLSSocket; reader: HandshakeReader; params: Map<string, string>; tls: boolean }
  | { kind: 'cancel'; processId: number; secretKey: number };

/** The client asked for something this gateway does not offer; answered with 0A000. */
export class UnsupportedRequest extends Error {}

/**
 * Run the startup phase: answer SSLRequest (TLS when a certificate is configured, 'N' otherwise) and
 * GSSENCRequest ('N'), recognise CancelRequest, and read the StartupMessage with its parameters.
 */
export async function negotiateStartup(raw: Socket, secureContext: SecureContext | null): Promise<StartupOutcome> {
  let socket: Socket | TLSSocket = raw;
  let reader = new HandshakeReader(raw);
  let tls = false;
  for (;;) {
    const body = await reader.readStartupPacket(MAX_STARTUP_PACKET);
    const code = body.readInt32BE(0);
    if (code === StartupCode.sslRequest || code === StartupCode.gssEncRequest) {
      if (tls) throw new ProtocolViolation('encryption requested twice');
      // Bytes sent before our answer would be read as if they had come over TLS (CVE-2021-23214).
      if (reader.buffered > 0) throw new ProtocolViolation('unexpected data after encryption request');
      if (code === StartupCode.sslRequest && secureContext) {
        raw.write('S');
        reader.release();
        socket = new TLSSocket(raw, { isServer: true, secureContext });
        reader = new HandshakeReader(socket);
        tls = true;
      } else {
        raw.write('N');
      }
      continue;
    }
    if (code === StartupCode.cancelRequest) {
      if (body.length !== 12) throw new ProtocolViolation('malformed CancelRequest');
      reader.release();
      return { kind: 'cancel', processId: body.readInt32BE(4), secretKey: body.readInt32BE(8) };
    }
    const major = code >>> 16;
    const minor = code & 0xffff;
    if (major !== 3) throw new UnsupportedRequest(`unsupported frontend protocol ${major}.${minor}: the gateway speaks 3.0`);
    const params = readStartupParams(body);
    // Newer clients may ask for a later minor version or protocol extensions: tell them what we speak.
    const extensions = [...params.keys()].filter((k) => k.startsWith('_pq_.'));
    for (const k of extensions) params.delete(k);
    if (minor > 0 || extensions.length > 0) socket.write(negotiateProtocolVersion(0, extensions));
    return { kind: 'startup', socket, reader, params, tls };
  }
}

function readStartupParams(body: Buffer): Map<string, string> {
  const params = new Map<string, string>();
  let pos = 4;
  const end = body.length;
  while (pos < end && body[pos] !== 0) {
    const [name, p1] = readCString(body, pos, end);
    const [value, p2] = readCString(body, p1, end);
    params.set(name, value);
    pos = p2;
  }
  if (pos >= end) throw new ProtocolViolation('startup packet not terminated');
  return params;
}
