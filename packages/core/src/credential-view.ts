import type { CredentialRecord } from './store.js'

/**
 * A credential as the exchange's admin API lists it
 * (`GET /admin/brokers/<id>/credentials`): what the exchange sends, the
 * console shows and the client library reads. Never the token: it is not kept.
 */
export type CredentialView = Omit<CredentialRecord, 'broker'> & {
  /** At the time of the answer: `revoked` wins over `expired`. */
  readonly state: 'live' | 'expired' | 'revoked'
}
