import { verifyOwnJwt } from '@mqtt-oidc/jose'
import type { ExchangeContext } from './context.js'

/**
 * The jti of a broker token this exchange issued for `broker`: its
 * signature checks out with one of our keys (also a retired one: a revoked
 * token may be old), `iss` is us, and the jti was recorded as a credential
 * of that broker. Expiry is not checked: a holder may ask about its own
 * token at any time. Undefined for anything else.
 */
export async function verifyOwnBrokerToken(ctx: ExchangeContext, broker: string, token: string): Promise<string | undefined> {
  let payload: Record<string, unknown>
  try {
    payload = verifyOwnJwt(
      token,
      (kid) => {
        const key = ctx.signingKeys().key(kid)
        // an HMAC key belongs to one broker (kid `hs256.<broker>.<id>`)
        return key && (key.alg !== 'HS256' || key.kid.startsWith(`hs256.${broker}.`)) ? key : undefined
      },
      'broker token',
    )
  } catch {
    return undefined
  }
  if (payload.iss !== ctx.issuer() || typeof payload.jti !== 'string') return undefined
  return (await ctx.store.credentials.get(broker, payload.jti)) ? payload.jti : undefined
}
