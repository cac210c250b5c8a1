import express, { type Request, type Response } from 'express'
import type { Logger } from 'pino'
import { MQTT_SCOPE, type Store } from '@mqtt-oidc/core'
import { errors, type InteractionResults, type Provider } from 'oidc-provider'
import { checkAccountPassword } from '../check-account-password.js'
import type { Csrf } from './csrf.js'
import type { KnownBrowsers } from './known-browsers.js'
import type { LoginAttempt, LoginLimiter } from './login-rate-limit.js'
import { contentSecurityPolicy, PAGE_HEADERS, renderDocument, type Page } from './html.js'
import { ACCOUNT_DISABLED_MESSAGE, consentPage, errorPage, LOGIN_FAILED_MESSAGE, loginPage } from './pages.js'

type Interaction = Awaited<ReturnType<Provider['interactionDetails']>>
type Grant = InstanceType<Provider['Grant']>

export interface InteractionDeps {
  readonly provider: Provider
  readonly store: Store
  readonly csrf: Csrf
  readonly logger: Logger
  readonly loginLimiter: LoginLimiter
  readonly knownBrowsers: KnownBrowsers
}

const MAX_FIELD = 1024

/**
 * Our login and consent pages (oidc-provider's `interactions.url` points
 * here): GET renders the page the pending prompt needs; the POST routes
 * finish the prompt and send the browser back to oidc-provider.
 */
export function createInteractionRouter(deps: InteractionDeps): express.Router {
  const router = express.Router()
  const form = express.urlencoded({ extended: false, limit: '16kb', parameterLimit: 20 })

  router.get('/interaction/:uid', async (req, res) => {
    const interaction = await loadInteraction(deps, req, res)
    if (!interaction) return
    if (interaction.prompt.name === 'login') await renderLogin(deps, res, interaction)
    else if (interaction.prompt.name === 'consent') await renderConsent(deps, res, interaction)
    else sendPage(res, 400, errorPage({ message: 'This sign-in step is not supported.' }))
  })

  router.post('/interaction/:uid/login', form, async (req, res) => {
    const interaction = await loadInteraction(deps, req, res, 'login')
    if (!interaction) return
    const username = field(req, 'username')
    const password = field(req, 'password')
    const clientId = clientIdOf(interaction)
    const name = username ?? ''
    const attempt: LoginAttempt = { username: name, ip: req.ip ?? req.socket.remoteAddress ?? '', knownBrowser: deps.knownBrowsers.isKnown(req, name) }
    const wait = deps.loginLimiter.retryAfter(attempt)
    if (wait > 0) {
      deps.logger.warn({ code: 'ERR_LOGIN_RATE_LIMITED', client_id: clientId }, 'login refused: too many failed attempts')
      res.set('Retry-After', String(wait))
      await renderLogin(deps, res, interaction, { status: 429, username, error: tooManyAttempts(wait) })
      return
    }
    const check = username && password ? await checkAccountPassword(deps.store, username, password) : { outcome: 'wrong' as const }
    if (check.outcome !== 'ok') {
      // A disabled account's right password still counts against the limits: no free password checks.
      deps.loginLimiter.failed(attempt)
      const disabled = check.outcome === 'disabled'
      deps.logger.warn({ code: disabled ? 'ERR_ACCOUNT_DISABLED' : 'ERR_LOGIN_FAILED', client_id: clientId, ...(disabled ? { sub: check.account.id } : {}) }, 'login refused')
      await renderLogin(deps, res, interaction, disabled ? { status: 403, username, error: ACCOUNT_DISABLED_MESSAGE } : { status: 400, username, error: LOGIN_FAILED_MESSAGE })
      return
    }
    const { account } = check
    deps.loginLimiter.succeeded(attempt)
    deps.knownBrowsers.remember(req, res, account.username)
    deps.logger.info({ sub: account.id, client_id: clientId }, 'login')
    await deps.provider.interactionFinished(req, res, { login: { accountId: account.id, amr: ['pwd'] } }, { mergeWithLastSubmission: false })
  })

  router.post('/interaction/:uid/consent', form, async (req, res) => {
    const interaction = await loadInteraction(deps, req, res, 'consent')
    if (!interaction) return
    const grantId = await saveGrant(deps.provider, interaction)
    deps.logger.info({ sub: interaction.session?.accountId, client_id: clientIdOf(interaction) }, 'consent given')
    const consent: InteractionResults = { consent: { grantId } }
    await deps.provider.interactionFinished(req, res, consent, { mergeWithLastSubmission: true })
  })

  router.post('/interaction/:uid/abort', form, async (req, res) => {
    const interaction = await loadInteraction(deps, req, res)
    if (!interaction) return
    deps.logger.warn({ code: 'ERR_ACCESS_DENIED', sub: interaction.session?.accountId, client_id: clientIdOf(interaction) }, 'sign-in denied by the user')
    const result = { error: 'access_denied', error_description: 'End-User aborted interaction' }
    await deps.provider.interactionFinished(req, res, result, { mergeWithLastSubmission: false })
  })

  return router
}

/**
 * The pending interaction of this browser, checked against the URL's uid,
 * the prompt a POST expects and (for POSTs) the CSRF token. On failure the
 * error page has been sent and `undefined` is returned.
 */
async function loadInteraction(deps: InteractionDeps, req: Request, res: Response, expectedPrompt?: string): Promise<Interaction | undefined> {
  let interaction: Interaction
  try {
    interaction = await deps.provider.interactionDetails(req, res)
  } catch (err) {
    if (!(err instanceof errors.SessionNotFound)) throw err
    sendPage(res, 400, expiredPage())
    return undefined
  }
  if (interaction.uid !== req.params.uid) {
    sendPage(res, 400, expiredPage())
    return undefined
  }
  if (req.method === 'POST' && !deps.csrf.verify(interaction.uid, (req.body as Record<string, unknown> | undefined)?.csrf)) {
    deps.logger.warn({ code: 'ERR_CSRF', client_id: clientIdOf(interaction) }, 'interaction form refused: bad CSRF token')
    sendPage(res, 403, errorPage({ message: 'This form has expired. Go back to your app and start the sign-in again.' }))
    return undefined
  }
  if (expectedPrompt && interaction.prompt.name !== expectedPrompt) {
    sendPage(res, 400, errorPage({ message: 'This sign-in step is no longer pending. Go back to your app and start again.' }))
    return undefined
  }
  return interaction
}

async function renderLogin(deps: InteractionDeps, res: Response, interaction: Interaction, extra: { status?: number; username?: string; error?: string } = {}): Promise<void> {
  const hint = typeof interaction.params.login_hint === 'string' ? interaction.params.login_hint : undefined
  sendPage(res, extra.status ?? 200, loginPage({
    uid: interaction.uid,
    csrf: deps.csrf.token(interaction.uid),
    clientName: await clientNameOf(deps.provider, interaction),
    username: (extra.username ?? hint)?.slice(0, MAX_FIELD),
    error: extra.error,
  }), interaction)
}

async function renderConsent(deps: InteractionDeps, res: Response, interaction: Interaction): Promise<void> {
  const accountId = interaction.session?.accountId
  const account = accountId ? await deps.store.accounts.findById(accountId) : undefined
  if (!account) {
    sendPage(res, 400, expiredPage())
    return
  }
  sendPage(res, 200, consentPage({
    uid: interaction.uid,
    csrf: deps.csrf.token(interaction.uid),
    clientName: await clientNameOf(deps.provider, interaction),
    username: account.username,
    scopes: requestedScopes(interaction),
  }), interaction)
}

/** Grants what the consent prompt found missing (OIDC scopes, claims, resource scopes). */
async function saveGrant(provider: Provider, interaction: Interaction): Promise<string> {
  const details = interaction.prompt.details as {
    missingOIDCScope?: string[]; missingOIDCClaims?: string[]; missingResourceScopes?: Record<string, string[]>
  }
  // Every sign-in gets its own grant, even from a browser session that granted this
  // client before (two devices confirmed from one phone): a per-login account's MQTT
  // client id is leased per grant (clientid-leases.ts), and a replayed refresh token
  // revokes one device's grant, not all of them. What was granted before carries over.
  const previous = interaction.grantId ? await provider.Grant.find(interaction.grantId) : undefined
  const grant = new provider.Grant({ accountId: interaction.session?.accountId, clientId: clientIdOf(interaction) })
  if (previous) copyGranted(previous, grant)
  if (details.missingOIDCScope) grant.addOIDCScope(details.missingOIDCScope.join(' '))
  if (details.missingOIDCClaims) grant.addOIDCClaims(details.missingOIDCClaims)
  // A `clientid` authorization parameter becomes a claim request (clientid-selection.ts),
  // which oidc-provider only honours for claims the grant holds.
  if (grant.getOIDCScope().split(' ').includes(MQTT_SCOPE)) grant.addOIDCClaims(['clientid'])
  for (const [indicator, scopes] of Object.entries(details.missingResourceScopes ?? {})) {
    grant.addResourceScope(indicator, scopes.join(' '))
  }
  return grant.save()
}

function copyGranted(from: Grant, to: Grant): void {
  const scope = from.getOIDCScope()
  if (scope) to.addOIDCScope(scope)
  const claims = from.getOIDCClaims()
  if (claims.length > 0) to.addOIDCClaims(claims)
  for (const indicator of Object.keys(from.resources ?? {})) {
    const resourceScope = from.getResourceScope(indicator)
    if (resourceScope) to.addResourceScope(indicator, resourceScope)
  }
}

function requestedScopes(interaction: Interaction): string[] {
  const details = interaction.prompt.details as { missingOIDCScope?: string[]; missingResourceScopes?: Record<string, string[]> }
  const scopes = new Set(details.missingOIDCScope ?? [])
  for (const list of Object.values(details.missingResourceScopes ?? {})) for (const scope of list) scopes.add(scope)
  // Native clients are asked every time (oidc-provider's native_client_prompt), even
  // when everything was granted before: then the page lists what the request asks for.
  if (scopes.size === 0 && typeof interaction.params.scope === 'string') for (const scope of interaction.params.scope.split(' ')) scopes.add(scope)
  return [...scopes]
}

function clientIdOf(interaction: Interaction): string | undefined {
  return typeof interaction.params.client_id === 'string' ? interaction.params.client_id : undefined
}

async function clientNameOf(provider: Provider, interaction: Interaction): Promise<string> {
  const clientId = clientIdOf(interaction)
  const client = clientId ? await provider.Client.find(clientId) : undefined
  return client?.clientName ?? clientId ?? 'the application'
}

function field(req: Request, name: string): string | undefined {
  const value = (req.body as Record<string, unknown> | undefined)?.[name]
  return typeof value === 'string' && value.length > 0 && value.length <= MAX_FIELD ? value : undefined
}

function tooManyAttempts(seconds: number): string {
  const [n, unit] = seconds < 60 ? [seconds, 'second'] : [Math.ceil(seconds / 60), 'minute']
  return `Too many failed sign-in attempts. Wait ${n} ${unit}${n === 1 ? '' : 's'} and try again.`
}

function expiredPage(): Page {
  return errorPage({ message: 'This sign-in request has expired or is no longer valid. Go back to your app and start again.' })
}

/**
 * Sends one of our pages. When the interaction will end in a redirect to the
 * client (auth code flow), that origin is allowed as a form action: browsers
 * apply `form-action` to the redirects that follow a form submission.
 */
export function sendPage(res: Response, status: number, page: Page, interaction?: Interaction): void {
  const redirectUri = interaction?.params.redirect_uri
  const origin = typeof redirectUri === 'string' ? URL.parse(redirectUri)?.origin : undefined
  res.status(status)
  res.set(PAGE_HEADERS)
  res.set('Content-Security-Policy', contentSecurityPolicy({ formActions: origin && origin !== 'null' ? [origin] : [] }))
  res.type('html').send(renderDocument(page))
}
