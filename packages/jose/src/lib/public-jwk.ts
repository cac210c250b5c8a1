import type { KeyRecord } from '../key-record.js'
import type { PublicJwk } from '../types.js'

/** Members only a private or secret JWK has (RFC 7518 §6). */
const PRIVATE_MEMBERS = new Set(['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'])
/** Members the record sets itself (a stored JWK's own copies may be stale or absent). */
const OWN = new Set(['kid', 'alg', 'use', 'key_ops'])

/** The public JWK of a key record, as published: key members, then kid, alg and use "sig". Never a private member. */
export function publicJwk(record: KeyRecord): PublicJwk {
  const pub: Record<string, unknown> = {}
  for (const [name, value] of Object.entries(record.privateJwk)) {
    if (!PRIVATE_MEMBERS.has(name) && !OWN.has(name)) pub[name] = value
  }
  return { ...pub, kty: String(record.privateJwk.kty), kid: record.kid, alg: record.alg, use: 'sig' }
}
