/** What a login yields and the token store keeps: the ID token is what the exchange takes. */
export interface TokenSet {
  /** The OIDC ID token (a JWT); carries `sub`, `clientid` and `username`. */
  readonly idToken: string
  /** Refresh token, when the IdP issued one (scope `offline_access`). */
  readonly refreshToken?: string | undefined
  /** The IdP access token (not used to reach MQTT; kept for userinfo/revocation). */
  readonly accessToken?: string | undefined
  /** The ID token's `exp`, epoch seconds. */
  readonly expiresAt: number
  /** Granted scope, when the IdP said. */
  readonly scope?: string | undefined
}
