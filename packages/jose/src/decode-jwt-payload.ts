import { TokenMalformed } from '@mqtt-oidc/core/errors'
import { decodeBase64url } from './lib/base64url.js'
import { parseJsonObject } from './lib/parse-json-object.js'
import type { DecodedJws } from './lib/split-jws.js'
import type { JwtPayload } from './types.js'

/**
 * The payload of a compact JWS (a token, or what decodeJws returned) as a
 * JSON object, NOT verified: only to route a token before verifying it
 * (which issuer's keys to ask) or to show a holder its own token, never for
 * a decision. Refuses (TokenMalformed) anything but three segments, a
 * payload that is not a UTF-8 JSON object, or one naming a member twice.
 *
 * @example const { iss } = decodeJwtPayload(decodeJws(token, options))
 */
export function decodeJwtPayload(jws: string | Pick<DecodedJws, 'payloadSegment'>, what = 'token'): JwtPayload {
  const segments = typeof jws === 'string' ? jws.split('.') : undefined
  const payload = segments ? (segments.length === 3 ? segments[1] : undefined) : (jws as Pick<DecodedJws, 'payloadSegment'>).payloadSegment
  const bytes = payload === undefined ? undefined : decodeBase64url(payload)
  if (!bytes) throw new TokenMalformed(`${what} is not a well-formed signed JWT`)
  return parseJsonObject(bytes, what, 'payload')
}
