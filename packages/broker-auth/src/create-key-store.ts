import { createRemoteJwks } from '@mqtt-oidc/jose'
import type { RemoteJwks, RemoteJwksOptions, RemoteJwksState } from '@mqtt-oidc/jose'

/** The broker's JWKS cache: the JOSE core's remote JWKS cache (see createRemoteJwks for every option). */
export type KeyStore = RemoteJwks
export type KeyStoreOptions = RemoteJwksOptions
export type KeyStoreState = RemoteJwksState

/**
 * The JOSE core's remote JWKS cache of the exchange's keys, under this
 * package's name (the broker app and the EMQX hook use it); messages say
 * "the exchange's keys" unless `label` says otherwise.
 *
 * @example
 * const keys = createKeyStore({ jwksUri: 'http://localhost:4001/.well-known/jwks.json' })
 * await keys.refresh()
 */
export function createKeyStore(options: KeyStoreOptions): KeyStore {
  return createRemoteJwks({ label: 'the exchange', ...options })
}
