import type { TokenEndpointResponse, TokenEndpointResponseHelpers } from 'openid-client'
import { LoginRequired } from '../errors.js'
import type { TokenSet } from '../token-set.js'

/**
 * Builds a TokenSet from a token endpoint response (openid-client has
 * already validated its ID token). A refresh response without a new refresh
 * token keeps the previous one (no rotation).
 */
export function tokenSetFromResponse(res: TokenEndpointResponse & TokenEndpointResponseHelpers, previous?: TokenSet): TokenSet {
  const claims = res.claims()
  if (res.id_token === undefined || claims === undefined) {
    throw new LoginRequired('the identity provider returned no ID token (is the scope "openid" granted?)')
  }
  return {
    idToken: res.id_token,
    refreshToken: res.refresh_token ?? previous?.refreshToken,
    accessToken: res.access_token,
    expiresAt: claims.exp,
    scope: res.scope ?? previous?.scope,
  }
}
