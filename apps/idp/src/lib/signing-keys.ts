import { calculateJwkThumbprint, exportJWK, generateKeyPair, type JWK } from 'jose'
import type { SigningKeyRecord, Store } from '@mqtt-oidc/core'

/**
 * The IdP signs with one current key per algorithm. RS256 comes first: it is
 * the OIDC default for ID tokens and for the admin JWT access tokens.
 */
export const IDP_SIGNING_ALGS = ['RS256', 'ES256', 'EdDSA'] as const
type IdpAlg = (typeof IDP_SIGNING_ALGS)[number]

/**
 * Returns the IdP's current private signing JWKs from the store, generating
 * (and storing) a key for every algorithm that has none. A restart with the
 * same store therefore signs with the same keys (same `kid`s in the JWKS).
 */
export async function loadOrCreateSigningKeys(store: Store): Promise<JWK[]> {
  const current = (await store.keys.list('idp')).filter((key) => key.retiredAt === null)
  const keys: JWK[] = []
  for (const alg of IDP_SIGNING_ALGS) {
    let record = current.find((key) => key.alg === alg)
    if (!record) {
      record = await generateSigningKey(alg)
      await store.keys.add(record)
    }
    keys.push({ ...(record.privateJwk as JWK), kid: record.kid, alg: record.alg, use: 'sig' })
  }
  return keys
}

async function generateSigningKey(alg: IdpAlg): Promise<SigningKeyRecord> {
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
