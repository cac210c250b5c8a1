import { calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK } from 'jose'
import type { CryptoKey, JWK } from 'jose'
import type { SigningKeyRecord, Store } from '@mqtt-oidc/core'

/** The algorithm of the exchange's broker-token signing key. */
export const SIGNING_ALG = 'EdDSA'

export interface SigningKey {
  readonly kid: string
  readonly alg: string
  readonly privateKey: CryptoKey
}

export interface SigningKeys {
  /** The key that signs new broker tokens. */
  readonly current: SigningKey
  /** What /.well-known/jwks.json serves: the public half of every stored exchange key. */
  readonly jwks: { readonly keys: readonly JWK[] }
}

/**
 * Loads the exchange's signing keys from the store, generating and storing an
 * Ed25519 key on first start (so a restart keeps the same `kid`).
 */
export async function loadSigningKeys(store: Store, now: number): Promise<SigningKeys> {
  let records = await store.keys.list('exchange')
  if (!records.some((r) => r.retiredAt === null)) {
    await store.keys.add(await generateRecord(now))
    records = await store.keys.list('exchange')
  }
  const active = records.filter((r) => r.retiredAt === null).sort((a, b) => b.createdAt - a.createdAt)[0]
  if (!active) throw new Error('no active exchange signing key after generating one')
  const privateKey = await importJWK(active.privateJwk as JWK, active.alg)
  if (privateKey instanceof Uint8Array) throw new Error(`exchange signing key ${active.kid} is not an asymmetric key`)
  return {
    current: { kid: active.kid, alg: active.alg, privateKey },
    jwks: { keys: records.map(publicJwk) },
  }
}

async function generateRecord(now: number): Promise<SigningKeyRecord> {
  const { privateKey } = await generateKeyPair(SIGNING_ALG, { extractable: true })
  const jwk = await exportJWK(privateKey)
  const kid = await calculateJwkThumbprint(jwk)
  return {
    kid,
    alg: SIGNING_ALG,
    owner: 'exchange',
    privateJwk: { ...jwk, kid, alg: SIGNING_ALG },
    createdAt: now,
    retiredAt: null,
  }
}

const PRIVATE_MEMBERS = new Set(['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'])

function publicJwk(record: SigningKeyRecord): JWK {
  const pub: Record<string, unknown> = {}
  for (const [name, value] of Object.entries(record.privateJwk)) {
    if (!PRIVATE_MEMBERS.has(name)) pub[name] = value
  }
  return { ...pub, kid: record.kid, alg: record.alg, use: 'sig' } as JWK
}
