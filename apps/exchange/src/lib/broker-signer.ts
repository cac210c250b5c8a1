import { ServerError } from '@mqtt-oidc/core'
import type { ExchangeContext } from './context.js'
import type { BrokerPolicy } from './broker-policy.js'
import type { SigningKey } from './signing-keys.js'

/** The key that signs tokens for this broker: its HMAC secret under HS256, else the exchange's current key for its alg. */
export async function brokerSigner(ctx: ExchangeContext, broker: string, policy: BrokerPolicy): Promise<SigningKey> {
  const keys = ctx.signingKeys()
  if (policy.alg !== 'HS256') return keys.signer(policy.alg)
  const key = await keys.hmac(broker)
  if (!key) throw new ServerError(`broker "${broker}" is set to HS256 but has no secret`)
  return key
}
