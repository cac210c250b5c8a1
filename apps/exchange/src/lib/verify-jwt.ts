import { jwtVerify, errors as joseErrors } from 'jose'
import type { JWTPayload, JWTVerifyGetKey, JWTVerifyOptions, ProtectedHeaderParameters } from 'jose'
import {
  KeysUnavailable,
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

/** Asymmetric algorithms accepted from an identity provider (never `none`, never HS*). */
export const IDP_TOKEN_ALGS = ['RS256', 'PS256', 'ES256', 'EdDSA'] as const

export interface VerifiedJwt {
  readonly payload: JWTPayload
  readonly protectedHeader: ProtectedHeaderParameters
}

/**
 * `jwtVerify` with every jose failure turned into one of core's typed token
 * errors. `what` names the token in the error text ("subject_token", "access
 * token"); the text names the reason and never contains the token or its claims.
 */
export async function verifyJwt(token: string, getKey: JWTVerifyGetKey, options: JWTVerifyOptions, what: string): Promise<VerifiedJwt> {
  try {
    const { payload, protectedHeader } = await jwtVerify(token, getKey, options)
    return { payload, protectedHeader }
  } catch (err) {
    throw toTokenError(err, what)
  }
}

/** Maps a jose (or fetch) failure to a core error; anything else is returned unchanged. */
export function toTokenError(err: unknown, what: string): unknown {
  if (err instanceof joseErrors.JWTExpired) {
    return new TokenExpired(err.claim === 'iat' ? `${what} is too old` : `${what} has expired`)
  }
  if (err instanceof joseErrors.JWTClaimValidationFailed) return claimError(err, what)
  if (err instanceof joseErrors.JOSEAlgNotAllowed) return new TokenAlgorithmNotAllowed(`${what} alg is not allowed`)
  if (err instanceof joseErrors.JWSSignatureVerificationFailed) return new TokenSignatureInvalid(`${what} signature is invalid`)
  if (err instanceof joseErrors.JWKSNoMatchingKey || err instanceof joseErrors.JWKSMultipleMatchingKeys) {
    return new TokenSignatureInvalid(`${what} is not signed by a known key of the identity provider`)
  }
  if (err instanceof joseErrors.JWSInvalid || err instanceof joseErrors.JWTInvalid || err instanceof joseErrors.JOSENotSupported) {
    return new TokenMalformed(`${what} is not a well-formed signed JWT`)
  }
  if (err instanceof joseErrors.JWKSTimeout || err instanceof joseErrors.JWKSInvalid || err instanceof joseErrors.JOSEError || err instanceof TypeError) {
    return new KeysUnavailable(`the identity provider's keys are unavailable`, { cause: err })
  }
  return err
}

function claimError(err: InstanceType<typeof joseErrors.JWTClaimValidationFailed>, what: string): MqttOidcError {
  const { claim, reason } = err
  if (reason === 'missing') return new TokenClaimsInvalid(`${what} has no ${claim} claim`)
  switch (claim) {
    case 'typ': return new TokenTypeInvalid(`${what} has the wrong typ header`)
    case 'iss': return new TokenIssuerInvalid(`${what} issuer is not trusted`)
    case 'aud': return new TokenAudienceInvalid(`${what} audience is not accepted here`)
    case 'nbf': return new TokenNotYetValid(`${what} is not yet valid`)
    default: return new TokenClaimsInvalid(`${what} has an invalid ${claim} claim`)
  }
}
