import { isUtf8 } from 'node:buffer'
import { TokenMalformed } from '@mqtt-oidc/core/errors'
import { membersInText, membersInValue } from './count-members.js'
import { findDuplicateMember } from './find-duplicate-member.js'
import { shown } from './shown.js'

/**
 * A base64url-decoded JWS segment as a JSON object, or `TokenMalformed`:
 * not UTF-8, not JSON, not an object, or a member name given twice at any
 * depth (RFC 7519 §4 lets a parser refuse that; JSON.parse would keep the
 * last one silently, and another parser of the same token may keep the
 * first). `part` names the segment in messages ("header", "payload").
 */
export function parseJsonObject(bytes: Buffer, what: string, part: string): Record<string, unknown> {
  const text = bytes.toString('utf8')
  // the decoder turns every invalid sequence into U+FFFD: without one, the bytes were UTF-8 (a scan
  // of the text, cheaper than a second pass over the bytes); with one, isUtf8 tells a real U+FFFD apart
  if (text.includes('\uFFFD') && !isUtf8(bytes)) throw new TokenMalformed(`${what} ${part} is not UTF-8`)
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    throw new TokenMalformed(`${what} ${part} is not JSON`)
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new TokenMalformed(`${what} ${part} is not a JSON object`)
  if (membersInText(text) !== membersInValue(value)) {
    const name = findDuplicateMember(text)
    throw new TokenMalformed(`${what} ${part} names ${shown(name)} more than once`, { claim: name, reason: 'duplicate' })
  }
  return value as Record<string, unknown>
}
