/**
 * PostgreSQL v3 wire protocol codes used by the gateway. The byte each message starts with is given as
 * its character; see https://www.postgresql.org/docs/current/protocol-message-formats.html.
 */

/** Codes in the first int32 after the length of an untyped startup-phase packet. */
export const StartupCode = {
  /** 3.0 — ordinary StartupMessage (major 3 << 16 | minor 0). */
  protocol3: 196608,
  /** SSLRequest: 1234 << 16 | 5679. */
  sslRequest: 80877103,
  /** GSSENCRequest: 1234 << 16 | 5680. */
  gssEncRequest: 80877104,
  /** CancelRequest: 1234 << 16 | 5678. */
  cancelRequest: 80877102,
} as const;

/** Messages a client (frontend) sends after startup, by their type byte. */
export const Frontend = {
  bind: 0x42, // 'B'
  close: 0x43, // 'C'
  describe: 0x44, // 'D'
  execute: 0x45, // 'E'
  functionCall: 0x46, // 'F'
  flush: 0x48, // 'H'
  parse: 0x50, // 'P'
  query: 0x51, // 'Q'
  sync: 0x53, // 'S'
  terminate: 0x58, // 'X'
  copyData: 0x64, // 'd'
  copyDone: 0x63, // 'c'
  copyFail: 0x66, // 'f'
  /** PasswordMessage, SASLInitialResponse and SASLResponse all use 'p'. */
  password: 0x70, // 'p'
} as const;

/** Messages the server (backend) sends, by their type byte. */
export const Backend = {
  parseComplete: 0x31, // '1'
  bindComplete: 0x32, // '2'
  closeComplete: 0x33, // '3'
  notificationResponse: 0x41, // 'A'
  commandComplete: 0x43, // 'C'
  dataRow: 0x44, // 'D'
  errorResponse: 0x45, // 'E'
  copyInResponse: 0x47, // 'G'
  copyOutResponse: 0x48, // 'H'
  emptyQueryResponse: 0x49, // 'I'
  backendKeyData: 0x4b, // 'K'
  noticeResponse: 0x4e, // 'N'
  authentication: 0x52, // 'R'
  parameterStatus: 0x53, // 'S'
  rowDescription: 0x54, // 'T'
  functionCallResponse: 0x56, // 'V'
  copyBothResponse: 0x57, // 'W'
  readyForQuery: 0x5a, // 'Z'
  copyDone: 0x63, // 'c'
  copyData: 0x64, // 'd'
  noData: 0x6e, // 'n'
  portalSuspended: 0x73, // 's'
  parameterDescription: 0x74, // 't'
  negotiateProtocolVersion: 0x76, // 'v'
} as const;

/** Sub-codes of the Authentication ('R') message. */
export const AuthCode = {
  ok: 0,
  cleartextPassword: 3,
  md5Password: 5,
  sasl: 10,
  saslContinue: 11,
  saslFinal: 12,
} as const;

/** SQLSTATE codes the gateway itself answers with. */
export const SqlState = {
  /** invalid_authorization_specification: no grant, TLS required. */
  invalidAuthorization: '28000',
  /** invalid_password: wrong secret or unknown agent (same message for both). */
  invalidPassword: '28P01',
  /** invalid_catalog_name: unknown connection. */
  invalidCatalogName: '3D000',
  /** insufficient_privilege: blocked. */
  insufficientPrivilege: '42501',
  /** query_canceled. */
  queryCanceled: '57014',
  /** admin_shutdown: revoked grant, gateway stopping. */
  adminShutdown: '57P01',
  /** sqlclient_unable_to_establish_sqlconnection: upstream unreachable. */
  unableToConnect: '08001',
  /** connection_failure: upstream gone. */
  connectionFailure: '08006',
  /** protocol_violation: malformed packets. */
  protocolViolation: '08P01',
  /** feature_not_supported. */
  featureNotSupported: '0A000',
  /** too_many_connections. */
  tooManyConnections: '53300',
  /** internal_error. */
  internalError: 'XX000',
} as const;

/** Upper bound of a startup packet, as in PostgreSQL's MAX_STARTUP_PACKET_LENGTH. */
export const MAX_STARTUP_PACKET = 10_000;
/** Upper bound of an authentication-phase message from an unauthenticated client. */
export const MAX_AUTH_MESSAGE = 8_192;
