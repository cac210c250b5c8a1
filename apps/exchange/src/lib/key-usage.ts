import type { SigningKeyRecord, Store } from '@mqtt-oidc/core'

/**
 * How long each key's tokens live, so a retired key stays in the JWKS until
 * the last token it signed has expired. Stored per kid in the store's generic
 * record table (core has no column for it yet), rounded up to the hour so the
 * hot path writes about once an hour per key, not once per token.
 */
export interface KeyUsage {
  /** Records that `kid` signed a token expiring at `exp` (null = never); resolves once durable. */
  note(kid: string, exp: number | null): Promise<void>
  /** When the last token `record` signed expires: epoch seconds, null = never, undefined = not recorded (signed before tracking began). */
  lastExpiry(record: SigningKeyRecord): Promise<number | null | undefined>
}

export const KEY_USAGE_MODEL = 'MqttOidcKeyUsage'
const HOUR = 3600

export function createKeyUsage(store: Store): KeyUsage {
  const known = new Map<string, number | null>()
  const load = async (kid: string): Promise<number | null | undefined> => {
    if (known.has(kid)) return known.get(kid)
    const payload = await store.oidc.find(KEY_USAGE_MODEL, kid)
    const lastExp = payload ? (payload.lastExp as number | null) : undefined
    if (lastExp !== undefined) known.set(kid, lastExp)
    return lastExp
  }
  return {
    async note(kid, exp) {
      const recorded = known.has(kid) ? known.get(kid) : await load(kid)
      if (recorded === null || (recorded !== undefined && exp !== null && exp <= recorded)) return
      const lastExp = exp === null ? null : Math.ceil(exp / HOUR) * HOUR
      await store.oidc.upsert(KEY_USAGE_MODEL, kid, { lastExp }, 0)
      known.set(kid, lastExp)
    },
    lastExpiry: (record) => load(record.kid),
  }
}
