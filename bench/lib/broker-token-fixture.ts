import { generateKeyPairSync, randomUUID, sign } from 'node:crypto'
import type { KeyObject } from 'node:crypto'
import { createKeyStore } from '@mqtt-oidc/broker-auth'
import type { KeyStore } from '@mqtt-oidc/broker-auth'

export const ISSUER = 'http://127.0.0.1:4001'
export const BROKER = 'bench'

/** An Ed25519 signer minting broker tokens, and a key store holding its public key (no HTTP: a fetch stub). */
export interface Fixture {
  readonly kid: string
  readonly publicKey: KeyObject
  readonly keys: KeyStore
  /** The JWKS document (JSON text) holding the public key. */
  readonly jwks: string
  /** A fresh signed broker token for client `sub`. */
  token(sub: string, extra?: Record<string, unknown>): string
}

const b64 = (v: unknown): string => Buffer.from(JSON.stringify(v)).toString('base64url')

/** The protected header (base64url) of every fixture token signed with key `kid`. */
export const tokenHeader = (kid: string): string => b64({ alg: 'EdDSA', kid, typ: 'mqtt-broker+jwt' })

export async function createFixture(): Promise<Fixture> {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519')
  const kid = randomUUID()
  const jwks = JSON.stringify({ keys: [{ ...publicKey.export({ format: 'jwk' }), kid, alg: 'EdDSA', use: 'sig' }] })
  const keys = createKeyStore({ jwksUri: `${ISSUER}/.well-known/jwks.json`, fetch: async () => new Response(jwks, { status: 200 }) })
  await keys.refresh()
  const header = tokenHeader(kid)
  function token(sub: string, extra: Record<string, unknown> = {}): string {
    const now = Math.floor(Date.now() / 1000)
    const payload = b64({
      iss: ISSUER,
      aud: BROKER,
      sub,
      jti: randomUUID(),
      iat: now,
      nbf: now,
      exp: now + 3600,
      acl: { pub: ['devices/${clientid}/#'], sub: ['devices/${clientid}/#'] },
      ...extra,
    })
    return `${header}.${payload}.${sign(null, Buffer.from(`${header}.${payload}`), privateKey).toString('base64url')}`
  }
  return { kid, publicKey, keys, jwks, token }
}

/** A compact JWS split at its last dot: the signing input (`header.payload`) and the signature (base64url). */
export function signedParts(token: string): [signingInput: string, signature: string] {
  const dot = token.lastIndexOf('.')
  return [token.slice(0, dot), token.slice(dot + 1)]
}

/** Median of a list of numbers. */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN
}

/** The p-th percentile (0..100) of a list of numbers. */
export function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN
}
