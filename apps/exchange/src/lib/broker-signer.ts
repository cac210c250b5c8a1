import { ServerError } from '@mqtt-oidc/core'
import type { ExchangeContext } from './context.js'
import type { BrokerPolicy } from './broker-policy.js'
import type { SigningKey } from './signing-keys.js'
import { tokenShape } from './broker-profile.js'
import type { TokenShape } from './broker-profile.js'

/** A key bound to one broker: it signs with the broker's alg and shapes tokens by the broker's profile. */
export interface BrokerSigner extends SigningKey {
  readonly shape: TokenShape
}

/** The signer of this broker's tokens: its HMAC secret under HS256, else the exchange's current key for its alg; with its profile's token shape. */
export async function brokerSigner(ctx: ExchangeContext, broker: string, policy: BrokerPolicy): Promise<BrokerSigner> {
  return { ...(await signingKey(ctx, broker, policy)), shape: tokenShape(broker, policy) }
}

async function signingKey(ctx: ExchangeContext, broker: string, policy: BrokerPolicy): Promise<SigningKey> {
  const keys = ctx.signingKeys()
  if (policy.alg !== 'HS256') return keys.signer(policy.alg)
  const key = await keys.hmac(broker)
  if (!key) throw new ServerError(`broker "${broker}" is set to HS256 but has no secret`)
  return key
}
