import { createPrivateKey, createSecretKey } from 'node:crypto'
import type { KeyObject } from 'node:crypto'
import { DEFAULT_KEY_RELOAD_SECONDS } from './defaults.js'
import { generateSigningKey } from './generate-signing-key.js'
import { SIGNING_ALGS } from './key-record.js'
import type { KeyRecord, KeyRecordStore, SigningAlg } from './key-record.js'
import { publicJwk } from './lib/public-jwk.js'
import { rotateKeys } from './rotate-keys.js'
import type { KeyRotation } from './rotate-keys.js'
import type { PublicJwk, SigningKey } from './types.js'

export interface KeySetOptions<Owner extends string> {
  /** Where the records live (core's `Store.keys`). Required. */
  readonly store: KeyRecordStore<Owner>
  readonly owner: Owner
  /** Algorithms that always have a signing key, in the order the JWKS lists them: `ensure()` and `signer()` generate a missing one. Required. */
  readonly algorithms: readonly SigningAlg[]
  /** The longest lifetime of a token this owner signs, seconds: a retired key stays published this long after it stops signing, unless `retainedUntil` knows better. Required. */
  readonly retainSeconds: number
  /** When a retired key may leave the JWKS (the last token it signed expires): epoch seconds, null = never, undefined = `retiredAt + retainSeconds`. Default: always undefined. */
  readonly retainedUntil?: ((record: KeyRecord<Owner>) => Promise<number | null | undefined>) | undefined
  /** Records older than this are reloaded on the next use, seconds: another process's rotation shows up within it. Default 60 (DEFAULT_KEY_RELOAD_SECONDS). */
  readonly reloadSeconds?: number | undefined
  /** Current time, epoch seconds. Default: the system clock. */
  readonly now?: (() => number) | undefined
  /**
   * Runs `fn` exclusive among every process on the store (core's
   * `Store.withLock` under one name). Key generation (`ensure()`, `signer()`)
   * runs under it and looks at the stored records again first, so instances
   * starting together on an empty store agree on one key per algorithm
   * instead of each signing with a key the others do not publish. Default:
   * none (one process on the store).
   */
  readonly exclusive?: (<T>(fn: () => Promise<T>) => Promise<T>) | undefined
}

/** Which keys sign and which are published, at one moment. */
export interface KeySetView<Owner extends string = string> {
  /** The keys signing now: per algorithm the newest one active, `algorithms` first. */
  readonly signing: readonly KeyRecord<Owner>[]
  /** Published, verify-only, newest first: keys that sign later, and retired keys whose tokens may still be valid. */
  readonly verifyOnly: readonly KeyRecord<Owner>[]
  /** False while an algorithm of `algorithms` has no signing key (a rotation half written by another process). */
  readonly complete: boolean
}

export interface KeySet<Owner extends string = string> {
  /** Generates (and stores) a key for every algorithm of `algorithms` that has none able to sign now (under `exclusive`, after a reload). */
  ensure(): Promise<void>
  /** The key that signs `alg` tokens now, imported once; generates one when there is none (under `exclusive`, after a reload). */
  signer(alg: SigningAlg): Promise<SigningKey>
  /** The newest key of `alg` (whose kid starts with `kidPrefix`, when given) that signs now, or undefined; never generates (HMAC keys are made by their owner). */
  current(alg: string, kidPrefix?: string): Promise<SigningKey | undefined>
  view(): Promise<KeySetView<Owner>>
  /** The public JWKS: signing keys, then verify-only ones. Never a private member, never an `oct` key. */
  jwks(): Promise<{ readonly keys: readonly PublicJwk[] }>
  /** rotateKeys for this owner, then a reload. */
  rotate(algorithms: readonly SigningAlg[], leadSeconds?: number): Promise<KeyRotation>
  /** The records as last loaded. */
  records(): readonly KeyRecord<Owner>[]
  /** The key of record `kid` as last loaded (signing, retired or not yet active), imported once; undefined when there is none. */
  key(kid: string): SigningKey | undefined
  /** Reloads the records now. */
  reload(): Promise<void>
  /**
   * Reloads the records every `everySeconds` and calls `onChange` with the
   * view at the first look and whenever it differs from the last one passed
   * (a rotation by any process, a key starting to sign, a retired key
   * leaving). Incomplete views (a rotation half written) are skipped.
   */
  watch(options: { readonly everySeconds: number; readonly onChange: (view: KeySetView<Owner>) => void; readonly onError: (err: unknown) => void }): {
    stop(): void
  }
}

/**
 * The key lifecycle shared by the IdP and the exchange: a key is published
 * as soon as it is stored, signs from its `createdAt` (a rotation sets it
 * `leadSeconds` ahead), stops at `retiredAt`, and stays in the JWKS until
 * the last token it signed has expired. State lives in the store; this
 * keeps the records (reloaded every `reloadSeconds`) and the imported keys.
 *
 * @example
 * const keys = await createKeySet({ store: store.keys, owner: 'exchange', algorithms: ['EdDSA'], retainSeconds: 3600 })
 * await keys.ensure()
 * signJwt(header, claims, await keys.signer('EdDSA'))
 */
export async function createKeySet<Owner extends string>(options: KeySetOptions<Owner>): Promise<KeySet<Owner>> {
  const { store, owner } = options
  const now = options.now ?? (() => Math.floor(Date.now() / 1000))
  const reloadSeconds = options.reloadSeconds ?? DEFAULT_KEY_RELOAD_SECONDS
  let records = await store.list(owner)
  let loadedAt = now()
  let cachedView: { view: KeySetView<Owner>; changesAt: number } | undefined
  const imported = new Map<string, SigningKey>()

  async function reload(): Promise<void> {
    records = await store.list(owner)
    loadedAt = now()
    cachedView = undefined
  }
  const fresh = async (): Promise<void> => {
    if (now() - loadedAt >= reloadSeconds) await reload()
  }
  const use = (r: KeyRecord<Owner>): SigningKey => {
    let key = imported.get(r.kid)
    if (!key) {
      key = { kid: r.kid, alg: r.alg, key: importPrivate(r) }
      imported.set(r.kid, key)
    }
    return key
  }

  const exclusive = options.exclusive ?? (<T>(fn: () => Promise<T>): Promise<T> => fn())
  /** Stores a key for each of `algs` that none of the stored records can sign with now; the records are read again under the lock, so another process's key counts. */
  const generateMissing = (algs: readonly SigningAlg[]): Promise<void> =>
    exclusive(async () => {
      await reload()
      const t = now()
      const missing = algs.filter((alg) => !active(records, alg, t))
      for (const alg of missing) await store.add(await generateSigningKey(alg, { owner, activatesAt: t }))
      if (missing.length > 0) await reload()
    })

  /** The view at `t`, and the next moment it changes by itself (a key starts signing, retires, or leaves). */
  async function computeView(t: number): Promise<{ view: KeySetView<Owner>; changesAt: number }> {
    let changesAt = Infinity
    const later = (at: number | null): void => {
      if (at !== null && at > t && at < changesAt) changesAt = at
    }
    const signing: KeyRecord<Owner>[] = []
    const order = [...options.algorithms, ...SIGNING_ALGS.filter((a) => !options.algorithms.includes(a))]
    for (const alg of order) {
      const record = active(records, alg, t)
      if (record) signing.push(record)
    }
    const signs = new Set(signing.map((r) => r.kid))
    const verifyOnly: KeyRecord<Owner>[] = []
    for (const r of [...records].sort((a, b) => b.createdAt - a.createdAt)) {
      later(r.createdAt)
      later(r.retiredAt)
      if (signs.has(r.kid) || !publishable(r)) continue
      if (r.retiredAt === null || r.retiredAt > t) verifyOnly.push(r)
      else {
        // null from retainedUntil is "never" (a token without exp), not "unknown"
        const recorded = options.retainedUntil ? await options.retainedUntil(r) : undefined
        const until = recorded === undefined ? r.retiredAt + options.retainSeconds : recorded
        later(until)
        if (until === null || until > t) verifyOnly.push(r)
      }
    }
    const complete = options.algorithms.every((alg) => signing.some((r) => r.alg === alg))
    return { view: { signing, verifyOnly, complete }, changesAt }
  }

  const keySet: KeySet<Owner> = {
    key(kid) {
      const record = records.find((r) => r.kid === kid)
      return record && use(record)
    },
    async ensure() {
      if (options.algorithms.some((alg) => !active(records, alg, now()))) await generateMissing(options.algorithms)
    },
    async signer(alg) {
      await fresh()
      let record = active(records, alg, now())
      if (!record) {
        await generateMissing([alg])
        record = active(records, alg, now())
        if (!record) throw new Error(`no ${alg} signing key after generating one`)
      }
      return use(record)
    },
    async current(alg, kidPrefix) {
      await fresh()
      const record = active(records, alg, now(), kidPrefix)
      return record && use(record)
    },
    async view() {
      await fresh()
      // recomputed when the records change and when a key starts signing, retires or leaves
      if (!cachedView || now() >= cachedView.changesAt) cachedView = await computeView(now())
      return cachedView.view
    },
    async jwks() {
      const { signing, verifyOnly } = await keySet.view()
      return { keys: [...signing, ...verifyOnly].map(publicJwk) }
    },
    async rotate(algorithms, leadSeconds) {
      const rotation = await rotateKeys(store, { owner, algorithms, leadSeconds, now: now() })
      await reload()
      return rotation
    },
    records: () => records,
    reload,
    watch({ everySeconds, onChange, onError }) {
      let last: string | undefined
      let busy = false
      const timer = setInterval(() => {
        if (busy) return
        busy = true
        reload()
          .then(() => keySet.view())
          .then((v) => {
            const print = fingerprint(v)
            if (!v.complete || print === last) return
            onChange(v)
            last = print
          })
          .catch(onError)
          .finally(() => {
            busy = false
          })
      }, everySeconds * 1000)
      timer.unref()
      return { stop: () => clearInterval(timer) }
    },
  }
  return keySet
}

/** The newest record of `alg` that signs at `t` (started, not retired). */
function active<R extends KeyRecord>(records: readonly R[], alg: string, t: number, kidPrefix?: string): R | undefined {
  let found: R | undefined
  for (const r of records) {
    if (r.alg !== alg || r.createdAt > t || (r.retiredAt !== null && r.retiredAt <= t)) continue
    if (kidPrefix !== undefined && !r.kid.startsWith(kidPrefix)) continue
    if (!found || r.createdAt > found.createdAt) found = r
  }
  return found
}

/** Only asymmetric keys are ever published: an HMAC secret never leaves the store. */
const publishable = (r: KeyRecord): boolean => !r.alg.startsWith('HS') && r.privateJwk.kty !== 'oct'

const fingerprint = (v: KeySetView): string => `${v.signing.map((r) => r.kid).join(',')}|${v.verifyOnly.map((r) => r.kid).join(',')}`

function importPrivate(r: KeyRecord): KeyObject {
  if (r.privateJwk.kty === 'oct') return createSecretKey(Buffer.from(String(r.privateJwk.k), 'base64url'))
  return createPrivateKey({ key: r.privateJwk, format: 'jwk' })
}
