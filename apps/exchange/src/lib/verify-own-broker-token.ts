import { createPrivateKey, createPublicKey, createSecretKey } from 'node:crypto'
import type { JsonWebKeyInput, KeyObject } from 'node:crypto'
import { compactVerify, decodeProtectedHeader } from 'jose'
import type { SigningKeyRecord } from '@mqtt-oidc/core'
import type { ExchangeContext } from './context.js'

/**
 * The jti of a broker token this exchange issued for `broker`: its
 * signature checks out with one of our keys (also a retired one: a revoked
 * token may be old), `iss` is us, and the jti was recorded as a credential
 * of that broker. Expiry is not checked: a holder may ask about its own
 * token at any time. Undefined for anything else.
 */
export async function verifyOwnBrokerToken(ctx: ExchangeContext, broker: string, token: string): Promise<string | undefined> {
  let kid: unknown
  try {
    kid = decodeProtectedHeader(token).kid
  } catch {
    return undefined
  }
  const record = typeof kid === 'string' ? ctx.signingKeys().records().find((r) => r.kid === kid) : undefined
  // an HMAC key belongs to one broker (kid `hs256.<broker>.<id>`)
  if (!record || (record.alg === 'HS256' && !record.kid.startsWith(`hs256.${broker}.`))) return undefined
  let payload: Record<string, unknown>
  try {
    const verified = await compactVerify(token, verificationKey(record), { algorithms: [record.alg] })
    payload = JSON.parse(new TextDecoder().decode(verified.payload)) as Record<string, unknown>
  } catch {
    return undefined
  }
  if (payload.iss !== ctx.issuer() || typeof payload.jti !== 'string') return undefined
  return (await ctx.store.credentials.get(broker, payload.jti)) ? payload.jti : undefined
}

function verificationKey(record: SigningKeyRecord): KeyObject {
  if (record.alg === 'HS256') return createSecretKey(Buffer.from(String(record.privateJwk.k), 'base64url'))
  return createPublicKey(createPrivateKey({ key: record.privateJwk, format: 'jwk' } as JsonWebKeyInput))
}
