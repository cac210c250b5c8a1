import { calculateJwkThumbprint, exportJWK, generateKeyPair, type JWK } from 'jose'
import type { SigningKeyRecord, Store } from '@mqtt-oidc/core'

/**
 * The IdP signs with one current key per algorithm. RS256 comes first: it is
 * the OIDC default for ID tokens and for the admin JWT access tokens.
 */
export const IDP_SIGNING_ALGS = ['RS256', 'ES256', 'EdDSA'] as const
type IdpAlg = (typeof IDP_SIGNING_ALGS)[number]

/**
 * Returns the IdP's private JWKs from the store: the current key of every
 * algorithm (generating and storing one where there is none), then keys
 * retired less than `retainSeconds` ago, marked verify-only so oidc-provider
 * publishes them in the JWKS but never signs with them. A restart with the
 * same store therefore signs with the same keys (same `kid`s in the JWKS).
 */
export async function loadOrCreateSigningKeys(store: Store, retainSeconds = 0, now = Math.floor(Date.now() / 1000)): Promise<JWK[]> {
  const all = await store.keys.list('idp')
  const current = all.filter((key) => key.retiredAt === null)
  const keys: JWK[] = []
  for (const alg of IDP_SIGNING_ALGS) {
    // Newest first, should a rotation have been interrupted between its steps.
    let record = current.filter((key) => key.alg === alg).sort((a, b) => b.createdAt - a.createdAt)[0]
    if (!record) {
      record = await generateSigningKey(alg)
      await store.keys.add(record)
    }
    keys.push(toJwk(record))
  }
  const signing = new Set(keys.map((key) => key.kid))
  const retained = all
    .filter((key) => !signing.has(key.kid) && (key.retiredAt === null || key.retiredAt + retainSeconds >= now))
    .sort((a, b) => b.createdAt - a.createdAt)
  for (const record of retained) keys.push({ ...toJwk(record), key_ops: ['verify'] })
  return keys
}

function toJwk(record: SigningKeyRecord): JWK {
  return { ...(record.privateJwk as JWK), kid: record.kid, alg: record.alg, use: 'sig' }
}

/** A new current key for `alg`, as a store record. */
export async function generateSigningKey(alg: IdpAlg): Promise<SigningKeyRecord> {
  // EdDSA generates Ed25519 keys (jose's default curve for it).
  const { privateKey } = await generateKeyPair(alg, { extractable: true, modulusLength: 2048 })
  const jwk = await exportJWK(privateKey)
  const kid = await calculateJwkThumbprint(jwk)
  return {
    kid,
    alg,
    owner: 'idp',
    privateJwk: { ...jwk, kid, alg, use: 'sig' },
    createdAt: Math.floor(Date.now() / 1000),
    retiredAt: null,
  }
}
