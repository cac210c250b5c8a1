import type { SigningKeyRecord } from './store.js'

/** A signing key as an admin API lists it: public information and dates, never key material. */
export interface SigningKeyView {
  readonly kid: string
  readonly alg: string
  /** When it starts (or started) signing, epoch seconds. */
  readonly createdAt: number
  /** When it stops (or stopped) signing; null while nothing replaces it. */
  readonly retiredAt: number | null
}

/** The view of `record`, without its private JWK. */
export function signingKeyView(record: SigningKeyRecord): SigningKeyView {
  return { kid: record.kid, alg: record.alg, createdAt: record.createdAt, retiredAt: record.retiredAt }
}
