import { DEFAULT_KEY_LEAD_SECONDS } from './defaults.js'
import { generateSigningKey } from './generate-signing-key.js'
import type { KeyRecordStore, SigningAlg } from './key-record.js'

export interface RotateKeysOptions<Owner extends string> {
  readonly owner: Owner
  /** The algorithms to rotate: one new key each. */
  readonly algorithms: readonly SigningAlg[]
  /** Seconds the new keys are published before they sign. Default 600 (DEFAULT_KEY_LEAD_SECONDS); 0 switches at once (one instance only). */
  readonly leadSeconds?: number | undefined
  /** Current time, epoch seconds. Default: the system clock. */
  readonly now?: number | undefined
}

export interface KeyRotation {
  /** kids of the new keys (one per algorithm, in order), published now, signing from `activatesAt`. */
  readonly added: string[]
  /** kids of the keys that stop signing at `activatesAt`, newest first; published until their tokens have expired. */
  readonly retired: string[]
  /** Epoch seconds when the new keys start signing. */
  readonly activatesAt: number
}

/**
 * The rotation step of the key lifecycle (publish → sign after the lead →
 * retire → leave the JWKS once the last token it signed has expired), for
 * the IdP and the exchange alike. Adds a new key per algorithm that signs
 * from now + lead and retires the keys of those algorithms that sign now at
 * that same moment. A key from an earlier rotation that has not started
 * signing yet never will (retired now). New keys are stored first: an
 * interruption leaves an extra key, never an algorithm without one.
 *
 * @example const { added, retired, activatesAt } = await rotateKeys(store.keys, { owner: 'idp', algorithms: ['RS256'] })
 */
export async function rotateKeys<Owner extends string>(store: KeyRecordStore<Owner>, options: RotateKeysOptions<Owner>): Promise<KeyRotation> {
  const now = options.now ?? Math.floor(Date.now() / 1000)
  const lead = options.leadSeconds ?? DEFAULT_KEY_LEAD_SECONDS
  if (!(Number.isSafeInteger(lead) && lead >= 0)) throw new TypeError('leadSeconds: a whole number of seconds >= 0')
  if (options.algorithms.length === 0) throw new TypeError('algorithms: give at least one')
  const activatesAt = now + lead
  const rotated = new Set<string>(options.algorithms)
  const existing = (await store.list(options.owner))
    .filter((k) => rotated.has(k.alg) && (k.retiredAt === null || k.retiredAt > now))
    .sort((a, b) => b.createdAt - a.createdAt)
  const added: string[] = []
  for (const alg of options.algorithms) {
    const record = await generateSigningKey(alg, { owner: options.owner, activatesAt })
    await store.add(record)
    added.push(record.kid)
  }
  const retired: string[] = []
  for (const key of existing) {
    const pending = key.createdAt > now
    await store.retire(key.kid, pending ? now : activatesAt)
    if (!pending) retired.push(key.kid)
  }
  return { added, retired, activatesAt }
}
