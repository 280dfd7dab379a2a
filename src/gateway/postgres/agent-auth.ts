import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { ScramServerExchange, parseScramVerifier, verifyPasswordWithVerifier } from '../identity/scram';
import type { AgentRecord } from '../store/records';
import { authenticationCleartextPassword, authenticationSasl, authenticationSaslContinue, authenticationSaslFinal } from './backend-messages';
import { readCString } from './frontend-messages';
import type { HandshakeReader } from './handshake-reader';
import { ProtocolViolation } from './message-framer';
import { Frontend, MAX_AUTH_MESSAGE } from './protocol-codes';

const MECHANISM = 'SCRAM-SHA-256';

/** Why authentication failed; the client sees one message for all of them (28P01). */
export type AuthFailure = 'unknown_agent' | 'wrong_secret' | 'agent_disabled' | 'unsupported_mechanism';

export type AuthResult = { ok: true; method: 'scram-sha-256' | 'password' } | { ok: false; reason: AuthFailure; method: 'scram-sha-256' | 'password' };

/**
 * Authenticate an agent by its secret without the gateway ever holding it: SCRAM-SHA-256 against the
 * stored verifier, or (only over TLS, when enabled) a cleartext password checked against the same
 * verifier. An unknown or disabled agent runs the same exchange as a known one, so the client can't tell
 * which agents exist. Resolves after the last server message of the exchange (not AuthenticationOk).
 */
export async function authenticateAgent(
  socket: Socket | TLSSocket,
  reader: HandshakeReader,
  agent: AgentRecord | undefined,
  opts: { cleartext: boolean; name: string; mockKey: Buffer },
): Promise<AuthResult> {
  const verifier = agent ? parseScramVerifier(agent.secretVerifier) : null;
  const refusal: AuthFailure | null = !agent ? 'unknown_agent' : agent.disabled ? 'agent_disabled' : null;

  if (opts.cleartext) {
    socket.write(authenticationCleartextPassword());
    const body = await reader.readMessage(Frontend.password, MAX_AUTH_MESSAGE);
    const [password] = readCString(body, 0, body.length);
    const good = agent ? verifyPasswordWithVerifier(password, agent.secretVerifier) : false;
    if (refusal) return { ok: false, reason: refusal, method: 'password' };
    return good ? { ok: true, method: 'password' } : { ok: false, reason: 'wrong_secret', method: 'password' };
  }

  socket.write(authenticationSasl([MECHANISM]));
  const initial = await reader.readMessage(Frontend.password, MAX_AUTH_MESSAGE);
  const [mechanism, pos] = readCString(initial, 0, initial.length);
  if (mechanism !== MECHANISM) return { ok: false, reason: 'unsupported_mechanism', method: 'scram-sha-256' };
  if (pos + 4 > initial.length) throw new ProtocolViolation('malformed SASLInitialResponse');
  const len = initial.readInt32BE(pos);
  if (len < 0 || pos + 4 + len > initial.length) throw new ProtocolViolation('malformed SASLInitialResponse');
  const clientFirst = initial.toString('utf8', pos + 4, pos + 4 + len);

  // Unknown agents get a salt that is stable per name (keyed by an installation secret), so asking twice
  // can't tell them apart from real ones.
  const exchange = new ScramServerExchange(verifier, { mockUser: opts.name, mockKey: opts.mockKey });
  socket.write(authenticationSaslContinue(exchange.handleClientFirst(clientFirst)));
  const final = await reader.readMessage(Frontend.password, MAX_AUTH_MESSAGE);
  const result = exchange.handleClientFinal(final.toString('utf8'));
  if (refusal) return { ok: false, reason: refusal, method: 'scram-sha-256' };
  if (!result.ok) return { ok: false, reason: 'wrong_secret', method: 'scram-sha-256' };
  socket.write(authenticationSaslFinal(result.serverFinal));
  return { ok: true, method: 'scram-sha-256' };
}
