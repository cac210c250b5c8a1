/**
 * One signing key as stored (core's `SigningKeyRecord` has this shape).
 * `createdAt` is when it starts signing (a rotation publishes it earlier),
 * `retiredAt` when it stops; epoch seconds.
 */
export interface KeyRecord<Owner extends string = string> {
  readonly kid: string
  /** 'EdDSA', 'ES256', 'RS256', ... or 'HS256' (never published). */
  readonly alg: string
  /** Which part signs with it ('idp', 'exchange'). */
  readonly owner: Owner
  /** The private key as a JWK (includes the public members). */
  readonly privateJwk: Record<string, unknown>
  readonly createdAt: number
  /** When it stops signing; null = not planned. */
  readonly retiredAt: number | null
}

/** Where key records live (core's `Store.keys` fits). */
export interface KeyRecordStore<Owner extends string = string> {
  add(record: KeyRecord<Owner>): Promise<void>
  /** The owner's records, oldest first. */
  list(owner: Owner): Promise<KeyRecord<Owner>[]>
  retire(kid: string, at: number): Promise<void>
}

/** Asymmetric algorithms a key set generates keys for. */
export const SIGNING_ALGS = ['EdDSA', 'ES256', 'RS256', 'PS256'] as const
export type SigningAlg = (typeof SIGNING_ALGS)[number]
