import * as oidc from 'openid-client'
import type { Configuration } from 'openid-client'
import { isLoopbackHttp, parseSecureUrl } from './lib/urls.js'

export interface DiscoverIssuerOptions {
  /** Client secret; when given the client authenticates with `client_secret_basic`, otherwise as a public client (`none`). */
  readonly clientSecret?: string | undefined
  /** HTTP timeout in seconds for discovery and every later request with this Configuration. Default 30. */
  readonly timeout?: number | undefined
}

/**
 * Discovers an OpenID Connect issuer and returns the openid-client
 * `Configuration` every other call takes first.
 *
 * Plain `http://` is accepted only for loopback issuers (`localhost`,
 * `127.0.0.1`), the embedded development stack; anything else must be https.
 *
 * @example
 * const config = await discoverIssuer('http://localhost:4000', 'mqtt-oidc-cli')
 */
export async function discoverIssuer(issuer: string, clientId: string, options: DiscoverIssuerOptions = {}): Promise<Configuration> {
  const url = parseSecureUrl(issuer, 'issuer')
  const auth = options.clientSecret === undefined ? oidc.None() : oidc.ClientSecretBasic(options.clientSecret)
  const metadata = options.clientSecret === undefined ? undefined : { client_secret: options.clientSecret }
  return oidc.discovery(url, clientId, metadata, auth, {
    execute: isLoopbackHttp(url) ? [oidc.allowInsecureRequests] : [],
    ...(options.timeout === undefined ? {} : { timeout: options.timeout }),
  })
}
