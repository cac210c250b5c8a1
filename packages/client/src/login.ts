import { discoverIssuer } from './discover-issuer.js'
import { loginWithBrowser } from './login-with-browser.js'
import { loginWithDeviceFlow, type DevicePrompt } from './login-with-device-flow.js'
import type { TokenStore } from './create-token-store.js'
import { tokenStoreKey } from './token-store-key.js'
import type { TokenSet } from './token-set.js'

export interface LoginOptions {
  /** The OIDC issuer URL (ours, or any issuer the exchange trusts). */
  readonly issuer: string
  /** The OIDC client id. Default `mqtt-oidc-cli`. */
  readonly clientId?: string | undefined
  /** `device` (RFC 8628, default: headless gateways) or `browser` (auth code + PKCE on a loopback redirect). */
  readonly flow?: 'device' | 'browser' | undefined
  /** Default `openid mqtt offline_access`. */
  readonly scope?: string | undefined
  /** Asks for one of the account's MQTT client ids; unknown ones are refused by the IdP. */
  readonly clientid?: string | undefined
  /** Device flow: shows the person the URL, the user code (and `verificationUriComplete` for a QR code). */
  readonly onPrompt?: ((prompt: DevicePrompt) => void | Promise<void>) | undefined
  /** Browser flow: opens or prints the authorization URL. */
  readonly onAuthorizationUrl?: ((url: string) => void | Promise<void>) | undefined
  /** Where the tokens are kept for `getIdToken`/`connect` (e.g. `createTokenStore(configDir)`); not saved when absent. */
  readonly tokenStore?: TokenStore | undefined
  /** Discovery cache directory (see discoverIssuer). */
  readonly cacheDir?: string | undefined
  /** Where the issuer's requests go when its URL is not reachable from here (see discoverIssuer). */
  readonly fetchFrom?: string | undefined
  readonly signal?: AbortSignal | undefined
}

/**
 * Signs in with the chosen flow and (when a store is given) saves the tokens
 * where `connect()` and the CLI find them.
 *
 * @example
 * await login({ issuer: 'http://localhost:4000', tokenStore: createTokenStore(dir),
 *   onPrompt: ({ verificationUri, userCode }) => console.error(`open ${verificationUri}, code ${userCode}`) })
 */
export async function login(options: LoginOptions): Promise<TokenSet> {
  const config = await discoverIssuer(options.issuer, options.clientId ?? 'mqtt-oidc-cli', { cacheDir: options.cacheDir, fetchFrom: options.fetchFrom })
  const common = { scope: options.scope, clientid: options.clientid, signal: options.signal }
  let tokens: TokenSet
  if ((options.flow ?? 'device') === 'device') {
    if (!options.onPrompt) throw new TypeError('login({ flow: "device" }) needs onPrompt to show the person the code')
    tokens = await loginWithDeviceFlow(config, { ...common, onPrompt: options.onPrompt })
  } else {
    if (!options.onAuthorizationUrl) throw new TypeError('login({ flow: "browser" }) needs onAuthorizationUrl to open or print the URL')
    tokens = await loginWithBrowser(config, { ...common, onAuthorizationUrl: options.onAuthorizationUrl })
  }
  await options.tokenStore?.set(tokenStoreKey(config), tokens)
  return tokens
}
