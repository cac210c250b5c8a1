import { Router } from 'express'
import type { Request, Response } from 'express'
import {
  InvalidRequest, InvalidTarget, TOKEN_EXCHANGE_GRANT, TOKEN_TYPE, UnsupportedGrantType, UnsupportedTokenType, brokerIdSchema,
} from '@mqtt-oidc/core'
import type { Broker } from '@mqtt-oidc/core'
import type { ExchangeContext } from '../lib/context.js'
import { exchangeLifetime } from '../lib/expiration.js'
import { singleParam } from '../lib/params.js'
import { issueBrokerToken } from '../issue-broker-token.js'
import { verifySubjectToken } from '../verify-subject-token.js'

const SUBJECT_TOKEN_TYPES: readonly string[] = [TOKEN_TYPE.idToken, TOKEN_TYPE.jwt]

/** POST /token: RFC 8693 token exchange of an IdP ID token for a broker token. */
export function tokenRoutes(ctx: ExchangeContext): Router {
  const router = Router()
  router.post('/token', async (req: Request, res: Response) => {
    res.set({ 'Cache-Control': 'no-store', Pragma: 'no-cache' })
    const form = readForm(req)
    const identity = await verifySubjectToken(form.subjectToken, {
      issuer: ctx.idp.issuer, clientIds: ctx.idp.clientIds, keys: ctx.idp.keys,
    })
    const broker = await findTarget(ctx, form.target)
    const now = ctx.now()
    const lifetime = exchangeLifetime(broker.expiration, ctx.maxLifetime)
    const { token, credential } = await issueBrokerToken({
      key: ctx.signingKeys().current,
      issuer: ctx.issuer(),
      broker: broker.id,
      clientId: identity.clientId,
      username: identity.username,
      acl: broker.acl,
      now,
      lifetime,
      source: 'exchange',
      issuedBy: identity.sub,
    })
    await ctx.store.credentials.insertMany([credential])
    ctx.log.info({ broker: broker.id, sub: identity.sub, client_id: identity.clientId, jti: credential.jti }, 'token exchanged')
    res.json({
      access_token: token,
      issued_token_type: TOKEN_TYPE.jwt,
      token_type: 'N_A',
      expires_in: lifetime,
    })
  })
  return router
}

interface ExchangeForm {
  readonly subjectToken: string
  readonly target: string
}

function readForm(req: Request): ExchangeForm {
  if (!req.is('application/x-www-form-urlencoded')) {
    throw new InvalidRequest('the token request must be application/x-www-form-urlencoded')
  }
  const body: unknown = req.body
  const grantType = singleParam(body, 'grant_type')
  if (grantType === undefined) throw new InvalidRequest('grant_type is required')
  if (grantType !== TOKEN_EXCHANGE_GRANT) throw new UnsupportedGrantType(`grant_type must be ${TOKEN_EXCHANGE_GRANT}`)
  const subjectToken = singleParam(body, 'subject_token')
  if (subjectToken === undefined) throw new InvalidRequest('subject_token is required')
  const subjectTokenType = singleParam(body, 'subject_token_type')
  if (subjectTokenType === undefined) throw new InvalidRequest('subject_token_type is required')
  if (!SUBJECT_TOKEN_TYPES.includes(subjectTokenType)) {
    throw new UnsupportedTokenType(`subject_token_type must be ${SUBJECT_TOKEN_TYPES.join(' or ')}`)
  }
  const requested = singleParam(body, 'requested_token_type')
  if (requested !== undefined && requested !== TOKEN_TYPE.jwt) {
    throw new UnsupportedTokenType(`requested_token_type must be ${TOKEN_TYPE.jwt}`)
  }
  if (singleParam(body, 'actor_token') !== undefined) throw new InvalidRequest('actor_token is not supported')
  for (const name of ['audience', 'resource']) {
    if (Array.isArray((body as Record<string, unknown> | undefined)?.[name])) throw new InvalidTarget(`a token is for exactly one broker; give one ${name}`)
  }
  const audience = singleParam(body, 'audience')
  const resource = singleParam(body, 'resource')
  if (audience !== undefined && resource !== undefined && targetId(audience) !== targetId(resource)) {
    throw new InvalidTarget('audience and resource name different brokers')
  }
  const target = audience ?? resource
  if (target === undefined) throw new InvalidRequest('audience (the broker id) is required')
  return { subjectToken, target }
}

/** A bare broker id, or an `mqtt(s)://host[:port]/<id>` URI naming one. */
function targetId(target: string): string {
  const m = /^mqtts?:\/\/[^/]+\/([^/?#]+)\/?$/i.exec(target)
  return m?.[1] ?? target
}

async function findTarget(ctx: ExchangeContext, target: string): Promise<Broker> {
  const id = targetId(target)
  const broker = brokerIdSchema.safeParse(id).success ? await ctx.store.brokers.get(id) : undefined
  if (!broker) throw new InvalidTarget(`unknown broker "${id.slice(0, 64)}"`)
  return broker
}
