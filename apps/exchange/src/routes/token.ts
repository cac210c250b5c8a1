import type { IncomingMessage, ServerResponse } from 'node:http'
import {
  InvalidClient, InvalidRequest, InvalidTarget, NotFound, TOKEN_EXCHANGE_GRANT, TOKEN_TYPE, TooManyRequests, UnsupportedGrantType, brokerIdSchema,
} from '@mqtt-oidc/core'
import type { ExchangeContext } from '../lib/context.js'
import { createCredentialRecorder } from '../lib/credential-recorder.js'
import type { CachedBroker } from '../lib/broker-cache.js'
import { brokerSigner } from '../lib/broker-signer.js'
import { admitSubject } from '../lib/admit-subject.js'
import { decideExchange } from '../lib/decide-exchange.js'
import { createRateLimiter } from '@mqtt-oidc/core'
import type { RateLimit, RateLimiter } from '@mqtt-oidc/core'
import { singleParam } from '../lib/params.js'
import { readFormBody } from '../lib/read-form-body.js'
import type { FormRequest } from '../lib/read-form-body.js'
import { writeJson } from '../lib/write-json.js'
import { issueBrokerToken } from '../issue-broker-token.js'
import { sendError } from '../send-error.js'
import { verifySubjectToken } from '../verify-subject-token.js'
import type { SubjectIdentity } from '../verify-subject-token.js'

const SUBJECT_TOKEN_TYPES: readonly string[] = [TOKEN_TYPE.idToken, TOKEN_TYPE.accessToken, TOKEN_TYPE.jwt]

const NO_STORE = { 'Cache-Control': 'no-store', Pragma: 'no-cache' }

/** Whether a request is for the token endpoint (served by `tokenEndpoint`, not express). */
export function isTokenRequest(req: IncomingMessage): boolean {
  return req.method === 'POST' && (req.url === '/token' || req.url?.startsWith('/token?') === true)
}

/**
 * POST /token: RFC 8693 token exchange of a trusted issuer's ID or access
 * token for a broker token, shaped by the broker's policy. Served on
 * node:http directly, not through express: the router, body parser and
 * res.json cost more CPU per exchange than verifying the subject token.
 */
export function tokenEndpoint(ctx: ExchangeContext): (req: IncomingMessage, res: ServerResponse) => void {
  const recordCredential = createCredentialRecorder(ctx.store)
  const rateLimiter = createRateLimiter()
  const exchange = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    for (const [name, value] of Object.entries(NO_STORE)) res.setHeader(name, value)
    const body = await readFormBody(req)
    refuseClientCredentials(req, body, res)
    const form = readForm(body)
    const issuer = ctx.issuer()
    const identity = await verifySubjectToken(form.subjectToken, form.subjectTokenType, {
      issuers: ctx.issuers, audiences: [issuer, `${issuer}/`], maxAge: ctx.maxSubjectTokenAge, now: ctx.now(),
    })
    const { broker, policy } = await findTarget(ctx, form.target)
    const decision = decideExchange(identity, broker, policy, form.scope, ctx.maxLifetime)
    const now = ctx.now()
    takeExchangeBudget(ctx, rateLimiter, res, identity, broker.id, policy.rateLimit, now)
    await admitSubject({ identityStore: ctx.identityStore, idpIssuer: ctx.idp.issuer, now }, identity, decision.clientId, !decision.generated)
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
    // A broker deleted since this instance cached it (up to a few seconds): its tokens must not go out.
    await Promise.all([recordCredential(credential).catch(brokerGone(broker.id)), ctx.keyUsage.note(key.kid, credential.expiresAt)])
    ctx.log.info({ broker: broker.id, sub: identity.sub, client_id: decision.clientId, jti: credential.jti }, 'token exchanged')
    writeJson(res, 200, {
      access_token: token,
      issued_token_type: TOKEN_TYPE.jwt,
      token_type: 'N_A',
      expires_in: decision.lifetime,
      ...(decision.scope !== undefined ? { scope: decision.scope } : {}),
      ...(decision.generated ? { client_id: decision.clientId } : {}),
    })
  }
  return (req, res) => {
    exchange(req, res).catch((err: unknown) => {
      // A body left unread (too large) cannot be followed by another request on this connection.
      if (!req.complete) res.setHeader('Connection', 'close')
      sendError(res, err, ctx.log, { method: req.method, path: '/token' })
    })
  }
}

/**
 * Counts one exchange against the subject's budget (one sign-in: issuer, sub,
 * client id claim) and the broker policy's (issuer, sub), or refuses with 429
 * and Retry-After, counting nothing against either.
 */
function takeExchangeBudget(
  ctx: ExchangeContext, limiter: RateLimiter, res: ServerResponse, identity: SubjectIdentity, broker: string, brokerLimit: RateLimit | null, now: number,
): void {
  const subject = `${identity.issuer.issuer}\0${identity.sub}`
  const budgets: Array<[string, RateLimit]> = []
  if (ctx.subjectRateLimit) budgets.push([`subject\0${subject}\0${identity.clientId ?? ''}`, ctx.subjectRateLimit])
  if (brokerLimit) budgets.push([`broker\0${broker}\0${subject}`, brokerLimit])
  const retryAfter = Math.max(0, ...budgets.map(([key, limit]) => limiter.wait(key, 1, limit, now)))
  if (retryAfter > 0) {
    res.setHeader('Retry-After', String(retryAfter))
    throw new TooManyRequests(`too many token exchanges for this subject; retry in ${retryAfter} s`)
  }
  for (const [key, limit] of budgets) limiter.take(key, 1, limit, now)
}

function brokerGone(broker: string): (err: unknown) => never {
  return (err) => {
    if (err instanceof NotFound) throw new InvalidTarget(`unknown broker "${broker}"`)
    throw err
  }
}

const NO_CLIENT_AUTH = 'this token endpoint authenticates no clients (token_endpoint_auth_methods_supported: ["none"]); send the request without client credentials'

/**
 * The metadata advertises the `none` method only, so client credentials of
 * any kind are an authentication that cannot succeed: RFC 6749 §5.2
 * invalid_client, 401 with a challenge in the scheme the client used.
 * (Silently ignoring them would let a client believe it authenticated.)
 */
function refuseClientCredentials(req: IncomingMessage, form: FormRequest, res: ServerResponse): void {
  const authorization = req.headers.authorization
  const inBody = form.body.client_secret !== undefined || form.body.client_assertion !== undefined
  if (authorization === undefined && !inBody) return
  if (authorization !== undefined) {
    const scheme = /^[A-Za-z][A-Za-z0-9!#$%&'*+.^_`|~-]*/.exec(authorization.trim())?.[0]
    res.setHeader('WWW-Authenticate', `${scheme && /^bearer$/i.test(scheme) ? 'Bearer' : 'Basic'} realm="mqtt-oidc"`)
  }
  throw new InvalidClient(NO_CLIENT_AUTH)
}

interface ExchangeForm {
  readonly subjectToken: string
  readonly subjectTokenType: string
  readonly target: string
  readonly scope: string | undefined
}

function readForm(req: FormRequest): ExchangeForm {
  if (req.mediaType !== 'application/x-www-form-urlencoded') {
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
