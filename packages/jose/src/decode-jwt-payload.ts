import { TokenMalformed } from '@mqtt-oidc/core/errors'
import { isBase64url } from './lib/base64url.js'
import { parseJsonObject } from './lib/parse-json-object.js'
import type { DecodedJws } from './lib/split-jws.js'
import type { JwtPayload } from './types.js'

/**
 * The payload of a decoded JWS as a JSON object, NOT verified: only for
 * routing a token before verifying it (which issuer's keys to ask), never
 * for a decision. Refuses (TokenMalformed) a payload that is not a UTF-8
 * JSON object or names a member twice.
 *
 * @example const { iss } = decodeJwtPayload(decodeJws(token, options))
 */
export function decodeJwtPayload(jws: Pick<DecodedJws, 'payloadSegment'>, what = 'token'): JwtPayload {
  if (!isBase64url(jws.payloadSegment)) throw new TokenMalformed(`${what} is not a well-formed signed JWT`)
  return parseJsonObject(Buffer.from(jws.payloadSegment, 'base64url'), what, 'payload')
}
