import { createHmac, sign } from 'node:crypto'
import type { KeyObject } from 'node:crypto'

/** A key ready to sign, imported once (no per-request import or WebCrypto round trip). */
export interface JwsKey {
  readonly kid: string
  /** 'EdDSA' | 'ES256' | 'RS256' | 'HS256'. */
  readonly alg: string
  /** A private KeyObject (asymmetric algs) or a secret KeyObject (HS256). */
  readonly key: KeyObject
}

/**
 * Signs a compact JWS with node:crypto directly: synchronous, and several
 * times cheaper per token than jose's WebCrypto path on the hot /token route.
 *
 * @example signJws({ alg: 'EdDSA', kid, typ: 'mqtt-broker+jwt' }, claims, key)
 */
export function signJws(header: Record<string, unknown>, claims: Record<string, unknown>, key: JwsKey): string {
  const input = `${b64(JSON.stringify({ ...header, alg: key.alg, kid: key.kid }))}.${b64(JSON.stringify(claims))}`
  return `${input}.${signature(input, key).toString('base64url')}`
}

function signature(input: string, { alg, key }: JwsKey): Buffer {
  const data = Buffer.from(input)
  switch (alg) {
    case 'EdDSA': return sign(null, data, key)
    case 'ES256': return sign('sha256', data, { key, dsaEncoding: 'ieee-p1363' })
    case 'RS256': return sign('sha256', data, key)
    case 'HS256': return createHmac('sha256', key).update(data).digest()
    default: throw new Error(`unsupported signing alg ${alg}`)
  }
}

const b64 = (text: string): string => Buffer.from(text).toString('base64url')
