import { calculateJwkThumbprint, exportJWK, generateKeyPair, type JWK } from 'jose'
import type { SigningKeyRecord, Store } from '@mqtt-oidc/core'

/**
 * The IdP signs with one current key per algorithm. RS256 comes first: it is
 * the OIDC default for ID tokens and for the admin JWT access tokens.
 */
export const IDP_SIGNING_ALGS = ['RS256', 'ES256', 'EdDSA'] as const
type IdpAlg = (typeof IDP_SIGNING_ALGS)[number]

/**
 * The IdP's private JWKs at `now`, from its key records, or undefined when an
 * algorithm has no key that may sign now (the caller then generates one, or
 * keeps the keys it has).
 *
 * A record's `createdAt` is when it starts signing and `retiredAt` when it
 * stops (a rotation publishes the new key ahead of both: see
 * rotateSigningKeys). Per algorithm the newest key active at `now` signs;
 * every other key is published verify-only: keys that start signing later
 * (so verifiers have them before the first token they sign) and keys retired
 * less than `retainSeconds` ago (so tokens they signed keep verifying).
 */
function signingJwks(records: readonly SigningKeyRecord[], retainSeconds: number, now: number): JWK[] | undefined {
  const keys: JWK[] = []
  for (const alg of IDP_SIGNING_ALGS) {
    const record = records
      .filter((key) => key.alg === alg && signsAt(key, now))
      .sort((a, b) => b.createdAt - a.createdAt)[0]
    if (!record) return undefined
    keys.push(toJwk(record))
  }
  const signing = new Set(keys.map((key) => key.kid))
  const published = records
    .filter((key) => !signing.has(key.kid) && (key.retiredAt === null || key.retiredAt + retainSeconds >= now))
    .sort((a, b) => b.createdAt - a.createdAt)
  for (const record of published) keys.push({ ...toJwk(record), key_ops: ['verify'] })
  return keys
}

/**
 * signingJwks of the store's keys, first generating (and storing) a key
 * for every algorithm that has none able to sign now. A restart with the
 * same store therefore signs with the same keys (same `kid`s in the JWKS).
 */
export async function loadOrCreateSigningKeys(store: Store, retainSeconds = 0, now = Math.floor(Date.now() / 1000)): Promise<JWK[]> {
  let records = await store.keys.list('idp')
  const missing = IDP_SIGNING_ALGS.filter((alg) => !records.some((key) => key.alg === alg && signsAt(key, now)))
  for (const alg of missing) await store.keys.add(await generateSigningKey(alg, now))
  if (missing.length > 0) records = await store.keys.list('idp')
  const keys = signingJwks(records, retainSeconds, now)
  if (!keys) throw new Error('no IdP signing key after generating the missing ones')
  return keys
}

/** True when `key` may sign at `now`: started (createdAt) and not yet retired. */
function signsAt(key: SigningKeyRecord, now: number): boolean {
  return key.createdAt <= now && (key.retiredAt === null || key.retiredAt > now)
}

/** One line that changes exactly when the JWKS or the signing keys change. */
function jwksFingerprint(keys: readonly JWK[]): string {
  return keys.map((key) => `${key.kid ?? ''}:${key.key_ops ? 'verify' : 'sign'}`).join(',')
}

function toJwk(record: SigningKeyRecord): JWK {
  return { ...(record.privateJwk as JWK), kid: record.kid, alg: record.alg, use: 'sig' }
}

/** A new key for `alg`, as a store record that starts signing at `activatesAt` (default now). */
export async function generateSigningKey(alg: IdpAlg, activatesAt = Math.floor(Date.now() / 1000)): Promise<SigningKeyRecord> {
  // EdDSA generates Ed25519 keys (jose's default curve for it).
  const { privateKey } = await generateKeyPair(alg, { extractable: true, modulusLength: 2048 })
  const jwk = await exportJWK(privateKey)
  const kid = await calculateJwkThumbprint(jwk)
  return {
    kid,
    alg,
    owner: 'idp',
    privateJwk: { ...jwk, kid, alg, use: 'sig' },
    createdAt: activatesAt,
    retiredAt: null,
  }
}

/**
 * Looks at the store's IdP keys every `everySeconds` and calls `onChange`
 * with the JWKS of that moment whenever it differs from the last one seen
 * (starting from `initial`): a rotation by any process on the store, a
 * rotated key starting to sign, a retired key leaving. A half-written
 * rotation (an algorithm with no key able to sign) is skipped until done.
 */
export function watchSigningKeys(options: {
  readonly store: Store
  readonly retainSeconds: number
  readonly everySeconds: number
  readonly initial: readonly JWK[]
  readonly onChange: (jwks: JWK[]) => void
  readonly onError: (err: unknown) => void
}): { stop(): void } {
  let last = jwksFingerprint(options.initial)
  let busy = false
  const timer = setInterval(() => {
    if (busy) return
    busy = true
    options.store.keys.list('idp').then((records) => {
      const jwks = signingJwks(records, options.retainSeconds, Math.floor(Date.now() / 1000))
      if (!jwks) return
      const fingerprint = jwksFingerprint(jwks)
      if (fingerprint === last) return
      options.onChange(jwks)
      last = fingerprint
    }).catch(options.onError).finally(() => { busy = false })
  }, options.everySeconds * 1000)
  timer.unref()
  return { stop: () => clearInterval(timer) }
}
