/**
 * The broker's JWKS cache is the JOSE core's remote JWKS cache: these are its
 * names in this package's API (the broker apps and EMQX hook use them).
 */
export { createRemoteJwks as createKeyStore } from '@mqtt-oidc/jose'
export type { RemoteJwks as KeyStore, RemoteJwksOptions as KeyStoreOptions, RemoteJwksState as KeyStoreState } from '@mqtt-oidc/jose'
