import { Router } from 'express'
import type { Request, Response } from 'express'
import {
  InvalidClient, InvalidRequest, InvalidTarget, TOKEN_EXCHANGE_GRANT, TOKEN_TYPE, TooManyRequests, UnsupportedGrantType, brokerIdSchema,
} from '@mqtt-oidc/core'
import type { ExchangeContext } from '../lib/context.js'
import { createCredentialRecorder } from '../lib/credential-recorder.js'
import type { CachedBroker } from '../lib/broker-cache.js'
import { brokerSigner } from '../lib/broker-signer.js'
import { decideExchange } from '../lib/decide-exchange.js'
import { createRateLimiter } from '../lib/rate-limiter.js'
import { singleParam } from '../lib/params.js'
import { issueBrokerToken } from '../issue-broker-token.js'
import { verifySubjectToken } from '../verify-subject-token.js'

const SUBJECT_TOKEN_TYPES: readonly string[] = [TOKEN_TYPE.idToken, TOKEN_TYPE.accessToken, TOKEN_TYPE.jwt]

/** POST /token: RFC 8693 token exchange of a trusted issuer's ID or access token for a broker token, shaped by the broker's policy. */
export function tokenRoutes(ctx: ExchangeContext): Router {
  const router = Router()
  const recordCredential = createCredentialRecorder(ctx.store)
  const rateLimiter = createRateLimiter()
  router.post('/token', async (req: Request, res: Response) => {
    res.set({ 'Cache-Control': 'no-store', Pragma: 'no-cache' })
    refuseClientCredentials(req, res)
    const form = readForm(req)
    const issuer = ctx.issuer()
    const identity = await verifySubjectToken(form.subjectToken, form.subjectTokenType, {
      issuers: ctx.issuers, audiences: [issuer, `${issuer}/`], maxAge: ctx.maxSubjectTokenAge, now: ctx.now(),
    })
    const { broker, policy } = await findTarget(ctx, form.target)
    const decision = decideExchange(identity, broker, policy, form.scope, ctx.maxLifetime)
    const now = ctx.now()
    if (policy.rateLimit) {
      const retryAfter = rateLimiter.hit(`${broker.id}\0${identity.issuer.issuer}\0${identity.sub}`, policy.rateLimit.requests, policy.rateLimit.windowSeconds, now)
      if (retryAfter > 0) {
        res.set('Retry-After', String(retryAfter))
        throw new TooManyRequests(`too many token exchanges for this subject; retry in ${retryAfter} s`)
      }
    }
    const key = await brokerSigner(ctx, broker.id, policy)
    const { token, credential } = await issueBrokerToken({
      key,
      issuer,
      broker: broker.id,
      clientId: decision.clientId,
      username: decision.username,
      acl: decision.acl,
      now,
      lifetime: decision.lifetime,
      source: 'exchange',
      issuedBy: identity.sub,
    })
    await Promise.all([recordCredential(credential), ctx.keyUsage.note(key.kid, credential.expiresAt)])
    ctx.log.info({ broker: broker.id, sub: identity.sub, client_id: decision.clientId, jti: credential.jti }, 'token exchanged')
    res.json({
      access_token: token,
      issued_token_type: TOKEN_TYPE.jwt,
      token_type: 'N_A',
      expires_in: decision.lifetime,
      ...(decision.scope !== undefined ? { scope: decision.scope } : {}),
      ...(decision.generated ? { client_id: decision.clientId } : {}),
    })
  })
  return router
}

const NO_CLIENT_AUTH = 'this token endpoint authenticates no clients (token_endpoint_auth_methods_supported: ["none"]); send the request without client credentials'

/**
 * The metadata advertises the `none` method only, so client credentials of
 * any kind are an authentication that cannot succeed: RFC 6749 §5.2
 * invalid_client, 401 with a challenge in the scheme the client used.
 * (Silently ignoring them would let a client believe it authenticated.)
 */
function refuseClientCredentials(req: Request, res: Response): void {
  const authorization = req.get('authorization')
  const body = req.body as Record<string, unknown> | undefined
  const inBody = body?.client_secret !== undefined || body?.client_assertion !== undefined
  if (authorization === undefined && !inBody) return
  if (authorization !== undefined) {
    const scheme = /^[A-Za-z][A-Za-z0-9!#$%&'*+.^_`|~-]*/.exec(authorization.trim())?.[0]
    res.set('WWW-Authenticate', `${scheme && /^bearer$/i.test(scheme) ? 'Bearer' : 'Basic'} realm="mqtt-oidc"`)
  }
  throw new InvalidClient(NO_CLIENT_AUTH)
}

interface ExchangeForm {
  readonly subjectToken: string
  readonly subjectTokenType: string
  readonly target: string
  readonly scope: string | undefined
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
  // RFC 8693 §2.2.2: a request this endpoint cannot serve is invalid_request
  // (unsupported_token_type belongs to revocation, RFC 7009 §2.2.1).
  if (!SUBJECT_TOKEN_TYPES.includes(subjectTokenType)) {
    throw new InvalidRequest(`subject_token_type must be ${SUBJECT_TOKEN_TYPES.join(' or ')}`)
  }
  const requested = singleParam(body, 'requested_token_type')
  if (requested !== undefined && requested !== TOKEN_TYPE.jwt) {
    throw new InvalidRequest(`requested_token_type must be ${TOKEN_TYPE.jwt}`)
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
  return { subjectToken, subjectTokenType, target, scope: singleParam(body, 'scope') }
}

/** A bare broker id, or an `mqtt(s)://host[:port]/<id>` URI naming one. */
function targetId(target: string): string {
  const m = /^mqtts?:\/\/[^/]+\/([^/?#]+)\/?$/i.exec(target)
  return m?.[1] ?? target
}

async function findTarget(ctx: ExchangeContext, target: string): Promise<CachedBroker> {
  const id = targetId(target)
  const found = brokerIdSchema.safeParse(id).success ? await ctx.brokers.get(id) : undefined
  if (!found) throw new InvalidTarget(`unknown broker "${id.slice(0, 64)}"`)
  return found
}
