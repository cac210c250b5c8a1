import * as oidc from 'openid-client'
import type { Configuration } from 'openid-client'
import { readCachedDiscovery, writeCachedDiscovery } from './lib/discovery-cache.js'
import { fetchFromFor, parseFetchFrom } from './lib/fetch-from.js'
import { isLoopbackHttp, parseSecureUrl } from './lib/urls.js'

export interface DiscoverIssuerOptions {
  /** Client secret; when given the client authenticates with `client_secret_basic`, otherwise as a public client (`none`). */
  readonly clientSecret?: string | undefined
  /** HTTP timeout in seconds for discovery and every later request with this Configuration. Default 30. */
  readonly timeout?: number | undefined
  /**
   * Cache the discovered metadata in `<cacheDir>/discovery.json` (the CLI
   * uses its config dir). A cached copy younger than `cacheMaxAgeSeconds` is
   * used without a request; an older one is used when discovery fails, so a
   * cached, still valid login keeps working while the IdP is briefly down.
   */
  readonly cacheDir?: string | undefined
  /** Seconds a cached discovery is used without asking the IdP. Default 3600. */
  readonly cacheMaxAgeSeconds?: number | undefined
  /**
   * Send every request for a URL under the issuer (discovery, JWKS, token,
   * device authorization, revocation) to this base URL instead: the IdP's
   * address where the issuer's own is not reachable, such as `http://idp:4000`
   * inside a compose network for the issuer `http://localhost:4000`. The
   * discovered `issuer` and every ID token's `iss` are still checked against
   * `issuer`. https, or plain http for a plain-http loopback issuer. Default:
   * the issuer itself.
   */
  readonly fetchFrom?: string | undefined
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
  const execute = isLoopbackHttp(url) ? [oidc.allowInsecureRequests] : []
  const fetchFrom = options.fetchFrom === undefined ? undefined : fetchFromFor(url, parseFetchFrom(options.fetchFrom, url, 'issuer fetch-from URL'))
  const transport: { [oidc.customFetch]?: oidc.CustomFetch } = fetchFrom === undefined ? {} : { [oidc.customFetch]: (input, init) => fetchFrom(input, init) }
  const fromMetadata = (server: oidc.ServerMetadata): Configuration => {
    const config = new oidc.Configuration(server, clientId, metadata, auth)
    for (const apply of execute) apply(config)
    if (fetchFrom !== undefined) config[oidc.customFetch] = (input, init) => fetchFrom(input, init)
    if (options.timeout !== undefined) config.timeout = options.timeout
    return config
  }
  const cacheDir = options.cacheDir
  // Cached under the issuer the metadata names: `https://idp` is stored without the slash URL parsing adds.
  const cached =
    cacheDir === undefined ? undefined : ((await readCachedDiscovery(cacheDir, url.href.replace(/\/$/, ''))) ?? (await readCachedDiscovery(cacheDir, url.href)))
  if (cached && Date.now() / 1000 - cached.fetchedAt < (options.cacheMaxAgeSeconds ?? 3600)) return fromMetadata(cached.metadata)
  let config: Configuration
  try {
    config = await oidc.discovery(url, clientId, metadata, auth, {
      execute,
      ...transport,
      ...(options.timeout === undefined ? {} : { timeout: options.timeout }),
    })
  } catch (err) {
    // Only an unreachable IdP falls back; an IdP that answers with something wrong does not.
    if (cached && !(err instanceof oidc.ResponseBodyError)) return fromMetadata(cached.metadata)
    throw err
  }
  if (cacheDir !== undefined) await writeCachedDiscovery(cacheDir, config.serverMetadata().issuer, config.serverMetadata()).catch(() => undefined)
  return config
}
