/**
 * Typed errors with stable codes. The `code` is the API; messages are for
 * people and may change. Never branch on a message.
 *
 * Every code has exactly one row in `REFUSALS` (refusals.ts) giving its wire
 * forms: OAuth error + HTTP status, MQTT 3.1.1 CONNACK, MQTT 5 reason code.
 */
export abstract class MqttOidcError extends Error {
  abstract readonly code: ErrorCode
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = new.target.name
  }
}

/**
 * Why a token check failed, as jose's errors say it: `missing` (a required
 * claim or header parameter is absent), `invalid` (present but of the wrong
 * type or form, e.g. a time in milliseconds), `check_failed` (well formed but
 * refused: expired, another issuer, an alg not allowed), `duplicate` (a JSON
 * member name given twice), `unsupported` (a JWS extension such as `crit`).
 */
export type TokenErrorReason = 'missing' | 'invalid' | 'check_failed' | 'duplicate' | 'unsupported'

/** Options of a token error: the `cause`, and the claim or header parameter at fault with the reason. */
export interface TokenErrorOptions {
  readonly cause?: unknown
  readonly claim?: string | undefined
  readonly reason?: TokenErrorReason | undefined
}

/**
 * Base of the `ERR_TOKEN_*` errors. Like jose's `JWTClaimValidationFailed`,
 * it names the claim or JOSE header parameter at fault (`claim: 'exp'`,
 * `'aud'`, `'alg'`, `'typ'`, ...) and why (`reason: 'check_failed'`);
 * both are undefined when no single claim is at fault (a bad signature).
 */
export abstract class TokenError extends MqttOidcError {
  readonly claim: string | undefined
  readonly reason: TokenErrorReason | undefined
  constructor(message: string, options?: TokenErrorOptions) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause })
    this.claim = options?.claim
    this.reason = options?.reason
  }
}

export type ErrorCode =
  | 'ERR_INVALID_REQUEST'
  | 'ERR_INVALID_CLIENT'
  | 'ERR_INVALID_GRANT'
  | 'ERR_INVALID_TARGET'
  | 'ERR_UNSUPPORTED_GRANT_TYPE'
  | 'ERR_UNSUPPORTED_TOKEN_TYPE'
  | 'ERR_INVALID_SCOPE'
  | 'ERR_TOO_MANY_REQUESTS'
  | 'ERR_UNAUTHENTICATED'
  | 'ERR_INSUFFICIENT_SCOPE'
  | 'ERR_NOT_FOUND'
  | 'ERR_CONFLICT'
  | 'ERR_TOKEN_MISSING'
  | 'ERR_TOKEN_MALFORMED'
  | 'ERR_TOKEN_SIGNATURE'
  | 'ERR_TOKEN_ALG_NOT_ALLOWED'
  | 'ERR_TOKEN_TYPE'
  | 'ERR_TOKEN_ISSUER'
  | 'ERR_TOKEN_AUDIENCE'
  | 'ERR_TOKEN_EXPIRED'
  | 'ERR_TOKEN_NOT_YET_VALID'
  | 'ERR_TOKEN_REVOKED'
  | 'ERR_TOKEN_CLAIMS'
  | 'ERR_KEYS_UNAVAILABLE'
  | 'ERR_REVOCATIONS_UNAVAILABLE'
  | 'ERR_CLIENT_ID_MISMATCH'
  | 'ERR_CLIENT_ID_INVALID'
  | 'ERR_CLIENT_ID_TAKEN'
  | 'ERR_USERNAME_INVALID'
  | 'ERR_CLIENT_ID_REJECTED'
  | 'ERR_USERNAME_MISMATCH'
  | 'ERR_ACL_DENIED'
  | 'ERR_SERVER'

/** A request parameter is missing, repeated or malformed. */
export class InvalidRequest extends MqttOidcError {
  readonly code = 'ERR_INVALID_REQUEST'
}
/** Client authentication failed. */
export class InvalidClient extends MqttOidcError {
  readonly code = 'ERR_INVALID_CLIENT'
}
/** A grant (code, refresh token, subject token) is invalid. */
export class InvalidGrant extends MqttOidcError {
  readonly code = 'ERR_INVALID_GRANT'
}
/** The requested audience/resource (a broker) is unknown or not allowed. */
export class InvalidTarget extends MqttOidcError {
  readonly code = 'ERR_INVALID_TARGET'
}
/** The grant_type is not supported by this endpoint. */
export class UnsupportedGrantType extends MqttOidcError {
  readonly code = 'ERR_UNSUPPORTED_GRANT_TYPE'
}
/** RFC 7009 §2.2.1: a revocation request names a token type the server cannot revoke. (Token exchange answers an unsupported token type with invalid_request, RFC 8693 §2.2.2.) */
export class UnsupportedTokenType extends MqttOidcError {
  readonly code = 'ERR_UNSUPPORTED_TOKEN_TYPE'
}
/** The requested scope is invalid or exceeds what is granted. */
export class InvalidScope extends MqttOidcError {
  readonly code = 'ERR_INVALID_SCOPE'
}
/** A rate limit was hit. */
export class TooManyRequests extends MqttOidcError {
  readonly code = 'ERR_TOO_MANY_REQUESTS'
}
/** No (valid) bearer credential on an authenticated API. */
export class Unauthenticated extends MqttOidcError {
  readonly code = 'ERR_UNAUTHENTICATED'
}
/** The bearer credential lacks the scope for this action. */
export class InsufficientScope extends MqttOidcError {
  readonly code = 'ERR_INSUFFICIENT_SCOPE'
}
/** A named resource (broker, jti, account) does not exist. */
export class NotFound extends MqttOidcError {
  readonly code = 'ERR_NOT_FOUND'
}
/** A resource with that name already exists. */
export class Conflict extends MqttOidcError {
  readonly code = 'ERR_CONFLICT'
}

/** No token where one is required (e.g. an empty CONNECT password). */
export class TokenMissing extends TokenError {
  readonly code = 'ERR_TOKEN_MISSING'
}
/** Not a compact JWS, or its header/payload is not JSON. */
export class TokenMalformed extends TokenError {
  readonly code = 'ERR_TOKEN_MALFORMED'
}
/** The signature does not verify with any known key. */
export class TokenSignatureInvalid extends TokenError {
  readonly code = 'ERR_TOKEN_SIGNATURE'
}
/** The header `alg` is not on the allow-list (`none`, HS* against a public key, ...). */
export class TokenAlgorithmNotAllowed extends TokenError {
  readonly code = 'ERR_TOKEN_ALG_NOT_ALLOWED'
}
/** The header `typ` is not the one expected here (a broker token used as an ID token, ...). */
export class TokenTypeInvalid extends TokenError {
  readonly code = 'ERR_TOKEN_TYPE'
}
/** `iss` is not the expected issuer. */
export class TokenIssuerInvalid extends TokenError {
  readonly code = 'ERR_TOKEN_ISSUER'
}
/** `aud` does not name this recipient (another broker, another client). */
export class TokenAudienceInvalid extends TokenError {
  readonly code = 'ERR_TOKEN_AUDIENCE'
}
/** `exp` has passed. */
export class TokenExpired extends TokenError {
  readonly code = 'ERR_TOKEN_EXPIRED'
}
/** `nbf` (or `iat`, beyond the clock tolerance) is in the future. */
export class TokenNotYetValid extends TokenError {
  readonly code = 'ERR_TOKEN_NOT_YET_VALID'
}
/** The token's `jti` has been revoked. */
export class TokenRevoked extends TokenError {
  readonly code = 'ERR_TOKEN_REVOKED'
}
/** A required claim is missing or malformed (e.g. an ill-formed `acl`). */
export class TokenClaimsInvalid extends TokenError {
  readonly code = 'ERR_TOKEN_CLAIMS'
}
/** No verification keys are available (JWKS unreachable and nothing cached). */
export class KeysUnavailable extends MqttOidcError {
  readonly code = 'ERR_KEYS_UNAVAILABLE'
}
/** The revocation feed has been unreachable for longer than the broker's policy allows (fail closed). */
export class RevocationsUnavailable extends MqttOidcError {
  readonly code = 'ERR_REVOCATIONS_UNAVAILABLE'
}
/** The MQTT client id is neither empty nor the token's `sub`. */
export class ClientIdMismatch extends MqttOidcError {
  readonly code = 'ERR_CLIENT_ID_MISMATCH'
}
/** The MQTT client id breaks the identifier rule (mqttIdentifierProblem): wildcards, `/`, a leading `$`, ... */
export class ClientIdInvalid extends MqttOidcError {
  readonly code = 'ERR_CLIENT_ID_INVALID'
}
/** The MQTT client id belongs to another account or subject (the client-id owner registry). */
export class ClientIdTaken extends MqttOidcError {
  readonly code = 'ERR_CLIENT_ID_TAKEN'
  /** The id that is taken. */
  readonly clientId: string
  constructor(message: string, clientId: string) {
    super(message)
    this.clientId = clientId
  }
}
/** The MQTT username breaks the identifier rule (mqttIdentifierProblem). */
export class UsernameInvalid extends MqttOidcError {
  readonly code = 'ERR_USERNAME_INVALID'
}
/** The MQTT client id is not acceptable in this CONNECT (an empty one with a persistent session, [MQTT-3.1.3-8]). */
export class ClientIdRejected extends MqttOidcError {
  readonly code = 'ERR_CLIENT_ID_REJECTED'
}
/** The MQTT username is neither the token's `username` nor its `sub`. */
export class UsernameMismatch extends MqttOidcError {
  readonly code = 'ERR_USERNAME_MISMATCH'
}
/** A publish or subscribe outside the token's ACL. */
export class AclDenied extends MqttOidcError {
  readonly code = 'ERR_ACL_DENIED'
}
/** Anything unexpected; the detail goes to the log, never to the peer. */
export class ServerError extends MqttOidcError {
  readonly code = 'ERR_SERVER'
}

/** True when `err` is one of ours (and so has a stable `code`). */
export function isMqttOidcError(err: unknown): err is MqttOidcError {
  return err instanceof MqttOidcError
}

/** A one-line description of a thrown value for logs: its name and message, plus the cause's code or message (e.g. ECONNREFUSED). */
export function describeError(err: unknown): string {
  if (!(err instanceof Error)) return String(err)
  const cause = err.cause as { code?: unknown; message?: unknown } | undefined
  const detail = typeof cause?.code === 'string' ? cause.code : typeof cause?.message === 'string' ? cause.message : undefined
  return detail ? `${err.name}: ${err.message} (${detail})` : `${err.name}: ${err.message}`
}
