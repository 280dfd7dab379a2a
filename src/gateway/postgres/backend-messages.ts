import { Writer } from 'pg-protocol/dist/buffer-writer';
import { AuthCode, Backend } from './protocol-codes';

/**
 * Builders for the backend messages the gateway itself sends to clients (authentication, errors,
 * key data). Relayed upstream traffic is never rebuilt here; it passes through as bytes.
 */

/** AuthenticationOk ('R', 0). */
export function authenticationOk(): Buffer {
  return new Writer().addInt32(AuthCode.ok).flush(Backend.authentication);
}

/** AuthenticationCleartextPassword ('R', 3): only ever sent over TLS. */
export function authenticationCleartextPassword(): Buffer {
  return new Writer().addInt32(AuthCode.cleartextPassword).flush(Backend.authentication);
}

/** AuthenticationSASL ('R', 10) listing the mechanisms offered. */
export function authenticationSasl(mechanisms: string[]): Buffer {
  const w = new Writer().addInt32(AuthCode.sasl);
  for (const m of mechanisms) w.addCString(m);
  w.addCString('');
  return w.flush(Backend.authentication);
}

/** AuthenticationSASLContinue ('R', 11) carrying server-first-message. */
export function authenticationSaslContinue(data: string): Buffer {
  return new Writer().addInt32(AuthCode.saslContinue).addString(data).flush(Backend.authentication);
}

/** AuthenticationSASLFinal ('R', 12) carrying server-final-message. */
export function authenticationSaslFinal(data: string): Buffer {
  return new Writer().addInt32(AuthCode.saslFinal).addString(data).flush(Backend.authentication);
}

/** BackendKeyData ('K'): the gateway's own key, mapped to the upstream's for cancellation. */
export function backendKeyData(processId: number, secretKey: number): Buffer {
  return new Writer().addInt32(processId).addInt32(secretKey).flush(Backend.backendKeyData);
}

/** ParameterStatus ('S'). */
export function parameterStatus(name: string, value: string): Buffer {
  return new Writer().addCString(name).addCString(value).flush(Backend.parameterStatus);
}

/** ReadyForQuery ('Z') with transaction status I (idle), T (in transaction) or E (failed transaction). */
export function readyForQuery(status: 'I' | 'T' | 'E' = 'I'): Buffer {
  return new Writer().add(Buffer.from(status, 'latin1')).flush(Backend.readyForQuery);
}

/** NegotiateProtocolVersion ('v'): the newest minor version we speak and the options we did not recognise. */
export function negotiateProtocolVersion(newestMinor: number, unrecognised: string[]): Buffer {
  const w = new Writer().addInt32(newestMinor).addInt32(unrecognised.length);
  for (const o of unrecognised) w.addCString(o);
  return w.flush(Backend.negotiateProtocolVersion);
}

export interface ErrorFields {
  severity: 'ERROR' | 'FATAL' | 'PANIC' | 'WARNING' | 'NOTICE';
  code: string;
  message: string;
  detail?: string;
  hint?: string;
}

/** ErrorResponse ('E') or, with notice = true, NoticeResponse ('N'). */
export function errorResponse(fields: ErrorFields, notice = false): Buffer {
  const w = new Writer();
  // S is the localised severity, V the non-localised one (since 9.6); clients read either.
  w.addString('S').addCString(fields.severity);
  w.addString('V').addCString(fields.severity);
  w.addString('C').addCString(fields.code);
  w.addString('M').addCString(fields.message);
  if (fields.detail) w.addString('D').addCString(fields.detail);
  if (fields.hint) w.addString('H').addCString(fields.hint);
  w.add(Buffer.from([0]));
  return w.flush(notice ? Backend.noticeResponse : Backend.errorResponse);
}
