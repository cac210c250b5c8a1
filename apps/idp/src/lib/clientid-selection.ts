import { mqttIdentifierProblem } from '@mqtt-oidc/core'
import { errors, interactionPolicy, type KoaContextWithOIDC } from 'oidc-provider'

/** The authorization parameter a client uses to pick one of the account's MQTT client ids. */
export const CLIENTID_PARAM = 'clientid'

/** `extraParams` entry: a malformed `clientid` (core's mqttIdentifierProblem) is refused at /auth and /device/auth. */
export function validateClientIdParam(_ctx: KoaContextWithOIDC, value: string | undefined): void {
  const problem = value === undefined ? undefined : mqttIdentifierProblem('client id', value)
  if (problem !== undefined) throw new errors.InvalidRequest(`clientid: ${problem}`)
}

const NOT_HELD = "the requested clientid is not one of this account's client ids"

/** `invalid_request` on the wire; its own name so the device page can say what went wrong. */
export class ClientIdNotHeld extends errors.InvalidRequest {
  constructor() {
    super(NOT_HELD)
    this.name = 'ClientIdNotHeld'
  }
}

/** What our findAccount adds to oidc-provider's account object. */
export interface AccountWithClientIds {
  readonly clientIds?: readonly string[]
}

/**
 * The login prompt with one more check. Once the account is known (after
 * login, or from the session), a requested `clientid` must be one the account
 * holds: otherwise the request is refused with `invalid_request` (a device
 * code gets the same error, so the device stops polling). When it is held,
 * it becomes an OIDC claim request `{"clientid": {"value": ...}}` for the ID
 * token and userinfo; oidc-provider stores claim requests with the code and
 * every refresh token, so the choice holds for the whole grant.
 */
export function buildInteractionPolicy(): interactionPolicy.Prompt[] {
  const policy = interactionPolicy.base()
  const login = policy.get('login')
  if (!login) throw new Error('oidc-provider has no login prompt')
  login.checks.add(
    new interactionPolicy.Check('clientid_not_held', "the requested clientid is not one of the account's client ids", async (ctx) => {
      const requested = ctx.oidc.params?.[CLIENTID_PARAM]
      const account = ctx.oidc.account as AccountWithClientIds | undefined
      if (typeof requested !== 'string' || !account) return interactionPolicy.Check.NO_NEED_TO_PROMPT
      if (!account.clientIds?.includes(requested)) {
        const deviceCode = ctx.oidc.entities.DeviceCode
        if (deviceCode) {
          Object.assign(deviceCode, { error: 'invalid_request', errorDescription: NOT_HELD })
          await deviceCode.save()
        }
        throw new ClientIdNotHeld()
      }
      const value = { value: requested }
      // ctx.oidc.claims is read-only in the typings only; assignClaims sets it the same way.
      const oidc = ctx.oidc as { claims?: { id_token?: Record<string, unknown>; userinfo?: Record<string, unknown> } }
      const claims = oidc.claims ?? {}
      oidc.claims = { ...claims, id_token: { ...claims.id_token, clientid: value }, userinfo: { ...claims.userinfo, clientid: value } }
      return interactionPolicy.Check.NO_NEED_TO_PROMPT
    }),
  )
  return policy
}
