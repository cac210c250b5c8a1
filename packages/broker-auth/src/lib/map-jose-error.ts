import { errors } from 'jose'
import {
  isMqttOidcError,
  KeysUnavailable,
  ServerError,
  TokenAlgorithmNotAllowed,
  TokenAudienceInvalid,
  TokenClaimsInvalid,
  TokenExpired,
  TokenIssuerInvalid,
  TokenMalformed,
  TokenNotYetValid,
  TokenSignatureInvalid,
  TokenTypeInvalid,
} from '@mqtt-oidc/core'
import type { MqttOidcError } from '@mqtt-oidc/core'

const CLAIM_ERRORS: Record<string, new (message: string, options?: { cause?: unknown }) => MqttOidcError> = {
  iss: TokenIssuerInvalid,
  aud: TokenAudienceInvalid,
  nbf: TokenNotYetValid,
  exp: TokenExpired,
  typ: TokenTypeInvalid,
}

/**
 * Maps whatever `jwtVerify` (or our key resolver) threw onto one of core's
 * typed errors, so refusals come from the REFUSALS table. Our own errors
 * (e.g. `KeysUnavailable` from the key resolver) pass through unchanged.
 */
export function mapJoseError(err: unknown): MqttOidcError {
  if (isMqttOidcError(err)) return err
  const cause = { cause: err }
  if (err instanceof errors.JWTExpired) return new TokenExpired('token has expired', cause)
  if (err instanceof errors.JWTClaimValidationFailed) {
    // a non-number `exp`/`nbf` is a malformed token, not an expired one; a missing `iss`/`aud` is the wrong issuer/audience
    if ((err.claim === 'exp' || err.claim === 'nbf') && err.reason !== 'check_failed') {
      return new TokenClaimsInvalid(`"${err.claim}" claim ${err.reason}`, cause)
    }
    const Mapped = CLAIM_ERRORS[err.claim] ?? TokenClaimsInvalid
    return new Mapped(`"${err.claim}" check failed`, cause)
  }
  if (err instanceof errors.JOSEAlgNotAllowed || err instanceof errors.JOSENotSupported) {
    return new TokenAlgorithmNotAllowed('"alg" not allowed', cause)
  }
  if (err instanceof errors.JWSSignatureVerificationFailed) return new TokenSignatureInvalid('signature invalid', cause)
  if (err instanceof errors.JWKSNoMatchingKey || err instanceof errors.JWKSMultipleMatchingKeys) {
    return new TokenSignatureInvalid('no key in the JWKS verifies this token', cause)
  }
  if (err instanceof errors.JWSInvalid || err instanceof errors.JWTInvalid) return new TokenMalformed('token is not a well-formed JWS/JWT', cause)
  if (err instanceof errors.JWKSTimeout || err instanceof errors.JWKSInvalid) return new KeysUnavailable('JWKS unavailable', cause)
  return new ServerError('unexpected verification failure', cause)
}
