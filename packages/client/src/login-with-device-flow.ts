import * as oidc from 'openid-client'
import type { Configuration } from 'openid-client'
import { tokenSetFromResponse } from './lib/token-set-from-response.js'
import type { TokenSet } from './token-set.js'

/** What the person needs to approve a device login. */
export interface DevicePrompt {
  /** Where to go and type the code. */
  readonly verificationUri: string
  /** The same page with the code filled in (for a link or a QR code), when the IdP offers one. */
  readonly verificationUriComplete?: string | undefined
  /** The code to type. */
  readonly userCode: string
  /** Seconds until the code expires. */
  readonly expiresIn: number
}

export interface DeviceFlowOptions {
  /** Scope to request. Default `'openid mqtt offline_access'` (ID token with MQTT claims, plus a refresh token). */
  readonly scope?: string | undefined
  /** Called once with the URL and code to show the person; polling starts after it returns. */
  readonly onPrompt: (prompt: DevicePrompt) => void | Promise<void>
  /** Aborts polling (e.g. on Ctrl-C). Polling otherwise ends when the code expires. */
  readonly signal?: AbortSignal | undefined
  /** Asks for one of the account's MQTT client ids (the IdP's `clientid` parameter); unknown ones are refused. */
  readonly clientid?: string | undefined
}

/** Scope of a CLI login: the ID token with `clientid`/`username`, and a refresh token. */
export const DEFAULT_LOGIN_SCOPE = 'openid mqtt offline_access'

/**
 * Logs in with the OAuth 2.0 Device Authorization Grant (RFC 8628): asks the
 * IdP for a user code, hands it to `onPrompt`, then polls the token endpoint
 * (honouring `interval` and `slow_down`, as openid-client does) until the
 * person approves, denies, or the code expires.
 *
 * @example
 * const tokens = await loginWithDeviceFlow(config, {
 *   onPrompt: ({ verificationUri, userCode }) => console.error(`open ${verificationUri} and enter ${userCode}`),
 * })
 * await store.set(tokenStoreKey(config), tokens)
 */
export async function loginWithDeviceFlow(config: Configuration, options: DeviceFlowOptions): Promise<TokenSet> {
  const scope = options.scope ?? DEFAULT_LOGIN_SCOPE
  const device = await oidc.initiateDeviceAuthorization(config, { scope, ...(options.clientid ? { clientid: options.clientid } : {}) })
  await options.onPrompt({
    verificationUri: device.verification_uri,
    verificationUriComplete: device.verification_uri_complete,
    userCode: device.user_code,
    expiresIn: device.expires_in,
  })
  const signal = options.signal
  try {
    return tokenSetFromResponse(await oidc.pollDeviceAuthorizationGrant(config, device, undefined, signal ? { signal } : undefined))
  } catch (err) {
    // openid-client wraps the abort in a generic ClientError; hand back the caller's own reason.
    if (signal?.aborted) throw signal.reason
    throw err
  }
}
