import type { JWK } from 'jose'
import type { SigningKeyRecord, Store } from '@mqtt-oidc/core'
import { createKeySet } from '@mqtt-oidc/jose'
import type { KeySet, KeySetView } from '@mqtt-oidc/jose'

/**
 * The IdP signs with one current key per algorithm. RS256 comes first: it is
 * the OIDC default for ID tokens and for the admin JWT access tokens.
 */
export const IDP_SIGNING_ALGS = ['RS256', 'ES256', 'EdDSA'] as const

/**
 * The IdP's keys: the JOSE core's key set (publish → sign after the lead →
 * retire → leave the JWKS once the last token it signed expired). A retired
 * key stays published `retainSeconds` after it stops signing: the longest
 * lifetime of a JWT the IdP signs (ID tokens, admin access tokens) plus skew.
 */
function idpKeySet(store: Store, retainSeconds: number): Promise<KeySet<SigningKeyRecord['owner']>> {
  // IdPs sharing the store generate keys one at a time, so replicas starting together publish the same ones.
  return createKeySet({
    store: store.keys,
    owner: 'idp',
    algorithms: IDP_SIGNING_ALGS,
    retainSeconds,
    exclusive: (fn) => store.withLock('signing-keys:idp', fn),
  })
}

/**
 * oidc-provider's JWKS (private JWKs, it signs with them): per algorithm the
 * key signing now, first; then the published verify-only keys (`key_ops:
 * ["verify"]`): keys that sign later, so verifiers have them before the first
 * token they sign, and retired keys whose tokens may still be valid.
 */
function providerJwks(view: KeySetView): JWK[] {
  const jwk = (r: KeySetView['signing'][number]): JWK => ({ ...(r.privateJwk as JWK), kid: r.kid, alg: r.alg, use: 'sig' })
  return [...view.signing.map(jwk), ...view.verifyOnly.map((r) => ({ ...jwk(r), key_ops: ['verify'] }))]
}

/**
 * The IdP's provider JWKS from the store, first generating (and storing) a
 * key for every algorithm that has none able to sign now. A restart with the
 * same store therefore signs with the same keys (same `kid`s in the JWKS).
 */
export async function loadOrCreateSigningKeys(store: Store, retainSeconds = 0): Promise<JWK[]> {
  const keys = await idpKeySet(store, retainSeconds)
  await keys.ensure()
  const view = await keys.view()
  if (!view.complete) throw new Error('no IdP signing key after generating the missing ones')
  return providerJwks(view)
}

/** One line that changes exactly when the JWKS or the signing keys change. */
const fingerprint = (keys: readonly JWK[]): string => keys.map((key) => `${key.kid ?? ''}:${key.key_ops ? 'verify' : 'sign'}`).join(',')

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
  let last = fingerprint(options.initial)
  let watch: { stop(): void } | undefined
  let stopped = false
  idpKeySet(options.store, options.retainSeconds).then((keys) => {
    if (stopped) return
    watch = keys.watch({
      everySeconds: options.everySeconds,
      onChange(view) {
        const jwks = providerJwks(view)
        if (fingerprint(jwks) === last) return
        options.onChange(jwks)
        last = fingerprint(jwks)
      },
      onError: options.onError,
    })
  }, options.onError)
  return {
    stop() {
      stopped = true
      watch?.stop()
    },
  }
}
