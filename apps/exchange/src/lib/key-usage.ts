import type { SigningKeyRecord, Store } from '@mqtt-oidc/core'

/**
 * How long each key's tokens live, so a retired key stays in the JWKS until
 * the last token it signed has expired. Kept per key in the store
 * (`keys.noteTokenExpiry`, which only ever raises it, whichever instance
 * writes), rounded up to the hour so the hot path writes about once an hour
 * per key, not once per token.
 */
export interface KeyUsage {
  /** Records that `kid` signed a token expiring at `exp` (null = never); resolves once durable. */
  note(kid: string, exp: number | null): Promise<void>
  /** When the last token `record` signed expires: epoch seconds, null = never, undefined = not recorded (signed before tracking began). */
  lastExpiry(record: SigningKeyRecord): Promise<number | null | undefined>
}

const HOUR = 3600

export function createKeyUsage(store: Store): KeyUsage {
  // What this instance knows is recorded (at least): a note under it needs no write.
  const known = new Map<string, number | null>()
  const load = async (kid: string): Promise<number | null | undefined> => {
    const recorded = await store.keys.lastTokenExpiry(kid)
    if (recorded !== undefined) known.set(kid, recorded)
    return recorded
  }
  return {
    async note(kid, exp) {
      const recorded = known.has(kid) ? known.get(kid) : await load(kid)
      if (recorded === null || (recorded !== undefined && exp !== null && exp <= recorded)) return
      const lastExp = exp === null ? null : Math.ceil(exp / HOUR) * HOUR
      await store.keys.noteTokenExpiry(kid, lastExp)
      // Another instance may have recorded a later one meanwhile; the store keeps the later.
      const current = known.get(kid)
      if (current !== null && (lastExp === null || current === undefined || lastExp > current)) known.set(kid, lastExp)
    },
    lastExpiry: (record) => load(record.kid),
  }
}
