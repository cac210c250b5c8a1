import type { ConnectToken } from '../connect-with-token.js'
import { BrokerTokenExpired, BrokerTokenRevoked, ConnectRefused, NotAuthorized, ProtocolVersionRefused } from '../errors.js'
import type { BrokerRefusal } from '../errors.js'

/** CONNACK codes that say "try again later", not "this token is no good": 3.1.1 server unavailable, MQTT 5 0x88 / 0x89 / 0x9F. */
export const TRANSIENT_CONNACK = new Set([3, 0x88, 0x89, 0x9f])

const NOT_AUTHORIZED = new Set([5, 0x85, 0x87])
const BAD_CREDENTIALS = new Set([4, 0x86])

export interface RefusalContext {
  readonly returnCode: number
  /** The token the refused CONNECT presented. */
  readonly token: ConnectToken
  /** The last renewal error, if the last renewal failed. */
  readonly renewError: unknown
  readonly isRevoked?: ((token: ConnectToken) => Promise<boolean>) | undefined
  /** mqtt.js `protocolVersion` of the refused CONNECT (for `ProtocolVersionRefused`). */
  readonly protocolVersion?: number | undefined
}

/**
 * Turns a CONNACK refusal into a typed error. MQTT 3.1.1 has only "bad user
 * name or password" for every invalid token, so the reason is worked out on
 * our side: past its `exp` means it expired; otherwise `isRevoked` (the
 * exchange's token status, asked with the refused token itself) is asked.
 */
export async function classifyRefusal(ctx: RefusalContext): Promise<BrokerRefusal> {
  const { returnCode, token } = ctx
  if (NOT_AUTHORIZED.has(returnCode)) return new NotAuthorized(returnCode)
  if (returnCode === 1 || returnCode === 0x84) {
    return new ProtocolVersionRefused(returnCode, ctx.protocolVersion)
  }
  if (!BAD_CREDENTIALS.has(returnCode)) return new ConnectRefused(returnCode)
  if (token.expiresAt !== undefined && token.expiresAt <= Date.now() / 1000) {
    return new BrokerTokenExpired(returnCode, ctx.renewError === undefined ? undefined : { cause: ctx.renewError })
  }
  const revoked = await ctx.isRevoked?.(token).catch(() => false)
  return revoked ? new BrokerTokenRevoked(returnCode, token.jti) : new ConnectRefused(returnCode)
}
