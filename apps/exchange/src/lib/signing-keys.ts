import { createPrivateKey, createPublicKey, createSecretKey, generateKeyPairSync, randomBytes } from 'node:crypto'
import type { JsonWebKeyInput, KeyObject } from 'node:crypto'
import { calculateJwkThumbprint } from 'jose'
import type { JWK } from 'jose'
import type { SigningKeyRecord, Store } from '@mqtt-oidc/core'
import { createJti } from './create-jti.js'
import type { JwsKey } from './sign-jws.js'

/** The default algorithm of broker tokens. */
export const SIGNING_ALG = 'EdDSA'
export const ASYMMETRIC_ALGS = ['EdDSA', 'ES256', 'RS256'] as const
export type AsymmetricAlg = (typeof ASYMMETRIC_ALGS)[number]

/** An exchange signing key, imported once as a node KeyObject. */
export type SigningKey = JwsKey

/**
 * The exchange's keys, from the store. A record's `createdAt` is when it
 * starts signing (rotation publishes a key ahead of that), `retiredAt` when
 * it stops. A retired key stays in the JWKS until the last token it signed
 * has expired (see KeyUsage). HS256 keys belong to one broker each
 * (kid `hs256.<broker>.<ulid>`) and are never published.
 */
export interface SigningKeys {
  /** The key that signs `alg` tokens now; generates the first one on demand. */
  signer(alg: AsymmetricAlg): Promise<SigningKey>
  /** The broker's current HMAC key, if it has one. */
  hmac(broker: string): Promise<SigningKey | undefined>
  /** Generates a broker's HMAC secret (retiring any older one); returns the secret (base64url), shown once. */
  createHmacSecret(broker: string): Promise<string>
  /** Retires the broker's HMAC keys (the broker is gone). */
  retireHmac(broker: string): Promise<void>
  /** Publishes a new `alg` key now that starts signing after `leadSeconds`; the current one retires then. */
  rotate(alg: AsymmetricAlg, leadSeconds: number): Promise<{ kid: string; alg: string; activatesAt: number; retiring: string | undefined }>
  /** The public JWKS (cached until the key set changes) and its revision for ETags. */
  jwks(): Promise<{ readonly keys: readonly JWK[] }>
  /** The stored records (for retention decisions). */
  records(): readonly SigningKeyRecord[]
}

/** Loads the exchange's keys, generating an EdDSA key on first start (so a restart keeps the same `kid`). */
export async function loadSigningKeys(store: Store, now: () => number, retained: (record: SigningKeyRecord) => Promise<boolean>): Promise<SigningKeys> {
  let records = await store.keys.list('exchange')
  const imported = new Map<string, SigningKey>()
  let jwksCache: { jwks: { keys: JWK[] }; at: number } | undefined
  let loadedAt = now()
  const reload = async (): Promise<void> => {
    records = await store.keys.list('exchange')
    loadedAt = now()
    jwksCache = undefined
  }
  // Keys changed elsewhere (another instance, the store edited offline) show up within a minute.
  const fresh = async (): Promise<void> => { if (now() - loadedAt >= RELOAD_SECONDS) await reload() }
  const use = (r: SigningKeyRecord): SigningKey => {
    let key = imported.get(r.kid)
    if (!key) {
      key = { kid: r.kid, alg: r.alg, key: importPrivate(r) }
      imported.set(r.kid, key)
    }
    return key
  }
  const active = (alg: string, t: number, prefix?: string): SigningKeyRecord | undefined => records
    .filter((r) => r.alg === alg && r.createdAt <= t && (r.retiredAt === null || r.retiredAt > t) && (prefix === undefined || r.kid.startsWith(prefix)))
    .sort((a, b) => b.createdAt - a.createdAt)[0]

  const keys: SigningKeys = {
    async signer(alg) {
      await fresh()
      let record = active(alg, now())
      if (!record) {
        await store.keys.add(await generateRecord(alg, now()))
        await reload()
        record = active(alg, now())
        if (!record) throw new Error(`no ${alg} signing key after generating one`)
      }
      return use(record)
    },
    async hmac(broker) {
      await fresh()
      const record = active('HS256', now(), hmacPrefix(broker))
      return record && use(record)
    },
    async retireHmac(broker) {
      for (const r of records) if (r.alg === 'HS256' && r.kid.startsWith(hmacPrefix(broker)) && r.retiredAt === null) await store.keys.retire(r.kid, now())
      await reload()
    },
    async createHmacSecret(broker) {
      const t = now()
      await keys.retireHmac(broker)
      const secret = randomBytes(32).toString('base64url')
      await store.keys.add({ kid: `${hmacPrefix(broker)}${createJti()}`, alg: 'HS256', owner: 'exchange', privateJwk: { kty: 'oct', k: secret }, createdAt: t, retiredAt: null })
      await reload()
      return secret
    },
    async rotate(alg, leadSeconds) {
      const t = now()
      const current = active(alg, t)
      const next = await generateRecord(alg, t + leadSeconds)
      await store.keys.add(next)
      if (current) await store.keys.retire(current.kid, t + leadSeconds)
      // A key from an earlier rotation that has not started signing yet never will.
      for (const r of records) if (r.alg === alg && r.createdAt > t && r.retiredAt === null) await store.keys.retire(r.kid, t)
      await reload()
      return { kid: next.kid, alg, activatesAt: next.createdAt, retiring: current?.kid }
    },
    async jwks() {
      await fresh()
      // Recomputed when keys change, and each minute: a retired key leaves once its tokens have expired.
      if (!jwksCache || now() - jwksCache.at >= RELOAD_SECONDS) {
        const published: JWK[] = []
        for (const r of records) if (r.alg !== 'HS256' && (r.retiredAt === null || r.retiredAt > now() || await retained(r))) published.push(publicJwk(r))
        jwksCache = { jwks: { keys: published }, at: now() }
      }
      return jwksCache.jwks
    },
    records: () => records,
  }
  await keys.signer(SIGNING_ALG)
  return keys
}

const RELOAD_SECONDS = 60
const hmacPrefix = (broker: string): string => `hs256.${broker}.`

function importPrivate(r: SigningKeyRecord): KeyObject {
  if (r.alg === 'HS256') return createSecretKey(Buffer.from(String(r.privateJwk.k), 'base64url'))
  return createPrivateKey({ key: r.privateJwk, format: 'jwk' } as JsonWebKeyInput)
}

async function generateRecord(alg: AsymmetricAlg, createdAt: number): Promise<SigningKeyRecord> {
  const pair = alg === 'EdDSA' ? generateKeyPairSync('ed25519')
    : alg === 'ES256' ? generateKeyPairSync('ec', { namedCurve: 'P-256' })
    : generateKeyPairSync('rsa', { modulusLength: 2048 })
  const jwk = pair.privateKey.export({ format: 'jwk' }) as JWK
  const kid = await calculateJwkThumbprint(createPublicKey(pair.privateKey).export({ format: 'jwk' }) as JWK)
  return { kid, alg, owner: 'exchange', privateJwk: { ...jwk, kid, alg }, createdAt, retiredAt: null }
}

const PRIVATE_MEMBERS = new Set(['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'])

function publicJwk(record: SigningKeyRecord): JWK {
  const pub: Record<string, unknown> = {}
  for (const [name, value] of Object.entries(record.privateJwk)) {
    if (!PRIVATE_MEMBERS.has(name)) pub[name] = value
  }
  return { ...pub, kid: record.kid, alg: record.alg, use: 'sig' } as JWK
}
