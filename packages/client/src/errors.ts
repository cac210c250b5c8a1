/**
 * Typed errors of the client library, each with a stable `code` (the API;
 * messages are for people and may change).
 *
 * These are client-side conditions (nobody is logged in, the exchange said
 * no, the broker refused CONNECT), not server refusal codes, so they do not
 * extend core's `MqttOidcError`, whose `ErrorCode` union is closed and maps
 * one-to-one onto the server's REFUSALS table.
 */
export abstract class MqttOidcClientError extends Error {
  abstract readonly code: string
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = new.target.name
  }
}

/** No usable login: nothing stored, or the refresh token was refused. The person must log in again. */
export class LoginRequired extends MqttOidcClientError {
  readonly code = 'ERR_LOGIN_REQUIRED'
  constructor(reason = 'not logged in', options?: { cause?: unknown }) {
    super(`${reason}: run \`mqtt-oidc login --device\``, options)
  }
}

/**
 * A browser login did not complete: the person denied it, the IdP answered
 * with an error, the answer did not match the request (state), or nobody
 * came back in time. `error` is the OAuth error when there is one.
 */
export class LoginFailed extends MqttOidcClientError {
  readonly code = 'ERR_LOGIN_FAILED'
  readonly error: string | undefined
  constructor(message: string, options?: { cause?: unknown; error?: string | undefined }) {
    super(message, options)
    this.error = options?.error
  }
}

/** The fields of an OAuth-style error response (`{error, error_description}`). */
export interface OAuthErrorFields {
  /** OAuth `error` value from the response body (`invalid_target`, `invalid_grant`, ...). */
  readonly error: string
  /** OAuth `error_description`, when the server sent one. */
  readonly error_description?: string | undefined
  /** HTTP status of the response. */
  readonly status: number
}

function describe(what: string, f: OAuthErrorFields): string {
  return `${what}: ${f.error}${f.error_description ? ` (${f.error_description})` : ''}`
}

/** The exchange's token endpoint refused the token exchange; `error` is its OAuth error. */
export class TokenExchangeRefused extends MqttOidcClientError implements OAuthErrorFields {
  readonly code = 'ERR_TOKEN_EXCHANGE_REFUSED'
  readonly error: string
  readonly error_description?: string | undefined
  readonly status: number
  constructor(fields: OAuthErrorFields, options?: { cause?: unknown }) {
    super(describe('token exchange refused', fields), options)
    this.error = fields.error
    this.error_description = fields.error_description
    this.status = fields.status
  }
}

/** The exchange's admin API answered with an error; `error` is its OAuth-style error. */
export class AdminApiError extends MqttOidcClientError implements OAuthErrorFields {
  readonly code = 'ERR_ADMIN_API'
  readonly error: string
  readonly error_description?: string | undefined
  readonly status: number
  constructor(fields: OAuthErrorFields, options?: { cause?: unknown }) {
    super(describe('admin API error', fields), options)
    this.error = fields.error
    this.error_description = fields.error_description
    this.status = fields.status
  }
}

/** No admin credentials: `<dataDir>/admin-client.json` is missing or unreadable. */
export class AdminCredentialsMissing extends MqttOidcClientError {
  readonly code = 'ERR_ADMIN_CREDENTIALS_MISSING'
}

/**
 * The MQTT broker refused CONNECT. `returnCode` is the MQTT 3.1.1 CONNACK
 * return code (4 bad user name or password, 5 not authorized) or, for
 * MQTT 5, the CONNACK reason code (0x86, 0x87, ...).
 */
export class ConnectRefused extends MqttOidcClientError {
  readonly code = 'ERR_CONNECT_REFUSED'
  readonly returnCode: number
  constructor(returnCode: number, message?: string) {
    super(message ?? `broker refused the connection (CONNACK ${returnCode}${CONNACK_TEXT[returnCode] ? `: ${CONNACK_TEXT[returnCode]}` : ''})`)
    this.returnCode = returnCode
  }
}

/**
 * The broker refused the broker token because it has been revoked (its `jti`
 * is on the exchange's revocation feed). Renewing will not help while the
 * login is the same: an operator revoked it on purpose.
 */
export class BrokerTokenRevoked extends MqttOidcClientError {
  readonly code = 'ERR_BROKER_TOKEN_REVOKED'
  readonly returnCode: number
  readonly jti: string | undefined
  constructor(returnCode: number, jti: string | undefined) {
    super(`the broker token${jti ? ` ${jti}` : ''} has been revoked (CONNACK ${returnCode}): ask the operator, or log in again`)
    this.returnCode = returnCode
    this.jti = jti
  }
}

/**
 * The broker refused the broker token because it had expired: it could not be
 * renewed in time (`cause` holds the last renewal error, e.g. `LoginRequired`
 * or an unreachable IdP).
 */
export class BrokerTokenExpired extends MqttOidcClientError {
  readonly code = 'ERR_BROKER_TOKEN_EXPIRED'
  readonly returnCode: number
  constructor(returnCode: number, options?: { cause?: unknown }) {
    const why = options?.cause instanceof Error ? `: ${options.cause.message}` : ''
    super(`the broker token expired before it could be renewed (CONNACK ${returnCode})${why}`, options)
    this.returnCode = returnCode
  }
}

/**
 * The broker accepted the token as a credential but does not let it connect
 * this way (CONNACK 5, MQTT 5 0x87 or 0x85): another broker's audience,
 * another client id, or a username that does not match.
 */
export class NotAuthorized extends MqttOidcClientError {
  readonly code = 'ERR_NOT_AUTHORIZED'
  readonly returnCode: number
  constructor(returnCode: number) {
    super(`the broker does not authorize this connection (CONNACK ${returnCode}${CONNACK_TEXT[returnCode] ? `: ${CONNACK_TEXT[returnCode]}` : ''}): check the broker id, client id and username`)
    this.returnCode = returnCode
  }
}

/**
 * The broker refused the MQTT protocol version of CONNECT (MQTT 3.1.1
 * CONNACK 1, MQTT 5 reason code 0x84): typically `protocolVersion: 5`
 * against a broker that speaks MQTT 3.1.1 only, such as the embedded aedes
 * broker. `protocolVersion` is what the client asked for.
 */
export class ProtocolVersionRefused extends MqttOidcClientError {
  readonly code = 'ERR_PROTOCOL_VERSION_REFUSED'
  readonly returnCode: number
  readonly protocolVersion: number | undefined
  constructor(returnCode: number, protocolVersion: number | undefined) {
    const advice = protocolVersion === 5
      ? 'it may not speak MQTT 5 (aedes speaks 3.1.1 only); connect with MQTT 3.1.1 (CLI: --mqtt-version 3.1.1)'
      : 'it may speak MQTT 5 only; connect with MQTT 5 (CLI: --mqtt-version 5)'
    super(`the broker refused the MQTT protocol version (CONNACK ${returnCode}: unacceptable protocol version): ${advice}`)
    this.returnCode = returnCode
    this.protocolVersion = protocolVersion
  }
}

/** What `connect`/`connectWithToken` report when the broker refuses a (re)connect for good. */
export type BrokerRefusal = ConnectRefused | BrokerTokenRevoked | BrokerTokenExpired | NotAuthorized | ProtocolVersionRefused

/**
 * The TLS handshake with the broker (`mqtts://`, `wss://`) failed because its
 * certificate is not trusted: self-signed, signed by an unknown CA, expired,
 * or issued for another host. Nothing was sent to the broker (no token left
 * the process). `reason` is Node's TLS error code
 * (`DEPTH_ZERO_SELF_SIGNED_CERT`, `ERR_TLS_CERT_ALTNAME_INVALID`, ...).
 */
export class BrokerCertificateUntrusted extends MqttOidcClientError {
  readonly code = 'ERR_BROKER_CERTIFICATE_UNTRUSTED'
  readonly reason: string
  constructor(reason: string, options?: { cause?: unknown }) {
    const detail = options?.cause instanceof Error && options.cause.message !== reason ? ` (${reason}: ${options.cause.message})` : ` (${reason})`
    super(`the broker's TLS certificate is not trusted${detail}: give the CA that signed it (CLI: --cafile <path>, library: mqtt: { ca })`, options)
    this.reason = reason
  }
}

const CONNACK_TEXT: Readonly<Record<number, string>> = {
  1: 'unacceptable protocol version',
  2: 'identifier rejected',
  3: 'server unavailable',
  4: 'bad user name or password',
  5: 'not authorized',
  0x85: 'client identifier not valid',
  0x86: 'bad user name or password',
  0x87: 'not authorized',
  0x88: 'server unavailable',
  0x8c: 'bad authentication method',
}

/** True when `err` is one of the client's typed errors. */
export function isMqttOidcClientError(err: unknown): err is MqttOidcClientError {
  return err instanceof MqttOidcClientError
}

/** A URL that would carry tokens in clear text: plain `http:` is allowed for loopback hosts only. */
export class InsecureUrl extends MqttOidcClientError {
  readonly code = 'ERR_INSECURE_URL'
}

/** A server answered with something that is not the documented response shape. */
export class InvalidResponse extends MqttOidcClientError {
  readonly code = 'ERR_INVALID_RESPONSE'
}
