import type { ErrorCode } from './errors.js'
import { isMqttOidcError } from './errors.js'

/** The wire forms of one refusal code. */
export interface Refusal {
  /** OAuth 2.0 `error` value (RFC 6749 §5.2, RFC 8693, RFC 6750). */
  readonly oauthError: string
  /** HTTP status that goes with `oauthError`. */
  readonly httpStatus: number
  /** MQTT 3.1.1 CONNACK return code (4 bad username or password, 5 not authorized). */
  readonly connack: 0 | 1 | 2 | 3 | 4 | 5
  /** MQTT 5 reason code (CONNACK, SUBACK, PUBACK, DISCONNECT). */
  readonly reasonCode: number
}

const r = (oauthError: string, httpStatus: number, connack: Refusal['connack'], reasonCode: number): Refusal =>
  Object.freeze({ oauthError, httpStatus, connack, reasonCode })

/**
 * The one table mapping each code to its wire forms. Handlers look codes up
 * here; they never invent status numbers inline.
 *
 * MQTT: a token that is not a valid credential at all (malformed, bad
 * signature, expired, revoked, wrong issuer) is "bad user name or password"
 * (CONNACK 4 / 0x86); a valid credential that does not allow this connection
 * (another broker's audience, another client id) is "not authorized"
 * (CONNACK 5 / 0x87).
 */
export const REFUSALS: Readonly<Record<ErrorCode, Refusal>> = Object.freeze({
  ERR_INVALID_REQUEST: r('invalid_request', 400, 5, 0x87),
  ERR_INVALID_CLIENT: r('invalid_client', 401, 5, 0x87),
  ERR_INVALID_GRANT: r('invalid_grant', 400, 5, 0x87),
  ERR_INVALID_TARGET: r('invalid_target', 400, 5, 0x87),
  ERR_UNSUPPORTED_GRANT_TYPE: r('unsupported_grant_type', 400, 5, 0x87),
  ERR_UNSUPPORTED_TOKEN_TYPE: r('unsupported_token_type', 400, 5, 0x87),
  ERR_INVALID_SCOPE: r('invalid_scope', 400, 5, 0x87),
  ERR_TOO_MANY_REQUESTS: r('slow_down', 429, 5, 0x9f),
  ERR_UNAUTHENTICATED: r('invalid_token', 401, 4, 0x86),
  ERR_INSUFFICIENT_SCOPE: r('insufficient_scope', 403, 5, 0x87),
  ERR_NOT_FOUND: r('not_found', 404, 5, 0x87),
  ERR_CONFLICT: r('conflict', 409, 5, 0x87),
  ERR_TOKEN_MISSING: r('invalid_request', 400, 4, 0x86),
  ERR_TOKEN_MALFORMED: r('invalid_request', 400, 4, 0x86),
  ERR_TOKEN_SIGNATURE: r('invalid_request', 400, 4, 0x86),
  ERR_TOKEN_ALG_NOT_ALLOWED: r('invalid_request', 400, 4, 0x86),
  ERR_TOKEN_TYPE: r('invalid_request', 400, 4, 0x86),
  ERR_TOKEN_ISSUER: r('invalid_request', 400, 4, 0x86),
  ERR_TOKEN_AUDIENCE: r('invalid_request', 400, 5, 0x87),
  ERR_TOKEN_EXPIRED: r('invalid_request', 400, 4, 0x86),
  ERR_TOKEN_NOT_YET_VALID: r('invalid_request', 400, 4, 0x86),
  ERR_TOKEN_REVOKED: r('invalid_request', 400, 4, 0x86),
  ERR_TOKEN_CLAIMS: r('invalid_request', 400, 4, 0x86),
  ERR_KEYS_UNAVAILABLE: r('temporarily_unavailable', 503, 3, 0x88),
  ERR_REVOCATIONS_UNAVAILABLE: r('temporarily_unavailable', 503, 3, 0x88),
  ERR_CLIENT_ID_MISMATCH: r('invalid_request', 400, 5, 0x85),
  // CONNACK 2 "identifier rejected" / 0x85 "Client Identifier not valid".
  ERR_CLIENT_ID_INVALID: r('invalid_request', 400, 2, 0x85),
  // Someone else's id: refused like a duplicate name on the admin API (409).
  ERR_CLIENT_ID_TAKEN: r('conflict', 409, 2, 0x85),
  ERR_USERNAME_INVALID: r('invalid_request', 400, 4, 0x86),
  ERR_CLIENT_ID_REJECTED: r('invalid_request', 400, 2, 0x85),
  ERR_USERNAME_MISMATCH: r('invalid_request', 400, 5, 0x87),
  ERR_ACL_DENIED: r('access_denied', 403, 5, 0x87),
  ERR_SERVER: r('server_error', 500, 3, 0x80),
})

/** The refusal row for any thrown value; unknown errors are `ERR_SERVER`. */
export function refusalFor(err: unknown): Refusal & { code: ErrorCode } {
  const code: ErrorCode = isMqttOidcError(err) ? err.code : 'ERR_SERVER'
  return { code, ...REFUSALS[code] }
}
