import * as oidc from 'openid-client'
import type { Configuration } from 'openid-client'
import { decodeJwtPayload } from '@mqtt-oidc/jose'
import { LoginRequired } from './errors.js'
import type { TokenStore } from './create-token-store.js'
import { tokenSetFromResponse } from './lib/token-set-from-response.js'
import { tokenStoreKey } from './token-store-key.js'
import type { TokenSet } from './token-set.js'

export interface GetIdTokenOptions {
  /**
   * Refresh when the ID token has fewer than this many seconds left. Default
   * 60, capped at half the token's lifetime so very short-lived tokens (tests)
   * are not refreshed on every call.
   */
  readonly skewSeconds?: number | undefined
  /** Clock, epoch seconds. Default `Date.now() / 1000`. */
  readonly now?: (() => number) | undefined
}

/**
 * Returns a valid ID token for `config`'s issuer and client from `store`,
 * refreshing it silently with the stored refresh token when it has expired
 * or is about to. The refresh runs under the store's lock, so two processes
 * never redeem the same (rotating) refresh token.
 *
 * Throws `LoginRequired` when nothing is stored, or when the IdP refuses the
 * refresh token. A refresh that fails for another reason (IdP unreachable)
 * still returns the current ID token while it is valid, and rethrows
 * otherwise.
 *
 * @example
 * const idToken = await getIdToken(config, store)
 */
export async function getIdToken(config: Configuration, store: TokenStore, options: GetIdTokenOptions = {}): Promise<string> {
  const now = options.now ?? (() => Math.floor(Date.now() / 1000))
  const fresh = (t: TokenSet): boolean => t.expiresAt - now() > skewFor(t, options.skewSeconds ?? 60)
  const key = tokenStoreKey(config)
  const cached = await store.get(key)
  if (cached === undefined) throw new LoginRequired()
  if (fresh(cached)) return cached.idToken
  const updated = await store.update(key, async (current) => {
    if (current === undefined) throw new LoginRequired()
    if (fresh(current)) return current // another process refreshed meanwhile
    return refresh(config, current, now())
  })
  if (updated === undefined) throw new LoginRequired()
  return updated.idToken
}

async function refresh(config: Configuration, current: TokenSet, now: number): Promise<TokenSet> {
  if (current.refreshToken === undefined) throw new LoginRequired('the login has expired and there is no refresh token')
  try {
    return tokenSetFromResponse(await oidc.refreshTokenGrant(config, current.refreshToken), current)
  } catch (err) {
    if (err instanceof LoginRequired) throw err
    if (err instanceof oidc.ResponseBodyError) {
      throw new LoginRequired(`the identity provider refused the refresh token (${err.error})`, { cause: err })
    }
    if (current.expiresAt > now) return current
    throw err
  }
}

function skewFor(t: TokenSet, skewSeconds: number): number {
  let lifetime: number | undefined
  try {
    const { iat, exp } = decodeJwtPayload(t.idToken, 'the ID token')
    lifetime = typeof iat === 'number' && typeof exp === 'number' && exp > iat ? exp - iat : undefined
  } catch {
    lifetime = undefined
  }
  return lifetime === undefined ? skewSeconds : Math.min(skewSeconds, Math.floor(lifetime / 2))
}
