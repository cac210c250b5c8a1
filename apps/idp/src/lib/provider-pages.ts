import { MQTT_SCOPE } from '@mqtt-oidc/core'
import type { Configuration, FindAccount, KoaContextWithOIDC } from 'oidc-provider'
import { contentSecurityPolicy, PAGE_HEADERS, renderDocument, type Page, type PolicyOptions } from './html.js'
import { markWrongUserCode } from './user-code-rate-limit.js'
import { deviceCodeInputPage, deviceConfirmPage, deviceDeniedPage, deviceSuccessPage, errorPage, loggedOutPage, logoutPage } from './pages.js'

/** Renders one of our pages as the response of an oidc-provider (Koa) route. */
export function sendKoaPage(ctx: KoaContextWithOIDC, page: Page, policy?: PolicyOptions): void {
  ctx.set(PAGE_HEADERS)
  ctx.set('Content-Security-Policy', contentSecurityPolicy(policy))
  ctx.type = 'html'
  ctx.body = renderDocument(page)
}

// The device-flow form secret oidc-provider keeps in the session; its own
// forms carry it as `xsrf`, and so do ours.
function xsrfSecret(ctx: KoaContextWithOIDC): string {
  const state = ctx.oidc.session?.state as { secret?: unknown } | undefined
  return typeof state?.secret === 'string' ? state.secret : ''
}

function clientName(ctx: KoaContextWithOIDC): string {
  const client = ctx.oidc.client
  return client?.clientName ?? client?.clientId ?? 'the application'
}

// Codes a person mistypes or lets expire get a message that helps them;
// nothing here depends on accounts.
const USER_CODE_MESSAGES: Readonly<Record<string, string>> = Object.freeze({
  NoCodeError: 'Enter the code shown on your device.',
  NotFoundError: 'That code is not valid. Check the code shown on your device.',
  ExpiredError: 'That code has expired. Start again on your device.',
  AlreadyUsedError: 'That code has already been used. Start again on your device.',
  ClientIdNotHeld: 'Your account cannot sign in this device: the device asked for an MQTT client id your account does not have.',
})

type DeviceFlow = NonNullable<NonNullable<Configuration['features']>['deviceFlow']>
type Sources = Required<Pick<DeviceFlow, 'userCodeInputSource' | 'userCodeConfirmSource' | 'successSource'>>

/**
 * Our pages for the device flow (code entry, "Sign in the device?", success /
 * denied). `findAccount` is the provider's: the success page names the MQTT
 * client id the device's ID token will carry, worked out exactly as the token
 * endpoint will (a per-login account's lease is per grant, so both agree).
 */
export function createDeviceFlowSources(findAccount: FindAccount): Sources {
  return {
    async userCodeInputSource(ctx, _form, _out, err) {
      if (ctx.method === 'POST' && !persisted(ctx)) {
        // A form posted without a session this IdP knows (no cookie, a cleared or
        // expired one, a forged post): nothing to check the code against, and no
        // session to save (oidc-provider would fail trying). Back to the code page.
        Object.assign(ctx.oidc.session ?? {}, { touched: false })
        ctx.status = 400
        sendKoaPage(ctx, errorPage({
          title: 'Enter the code again',
          message: `This page has expired. Open ${ctx.oidc.urlFor('code_verification')} again and enter the code shown on your device.`,
        }))
        return
      }
      if (err?.name === 'AbortedError') {
        sendKoaPage(ctx, deviceDeniedPage())
        return
      }
      if (err?.name === 'NotFoundError') markWrongUserCode(ctx)
      const userCode = err && 'userCode' in err && typeof err.userCode === 'string' ? err.userCode : undefined
      // oidc-provider checks expiry before use: a code used and then expired is "used" to the person who typed it.
      const reason = err?.name === 'ExpiredError' && userCode !== undefined && await wasUsed(ctx, userCode) ? 'AlreadyUsedError' : err?.name
      const error = err ? (USER_CODE_MESSAGES[reason ?? ''] ?? 'This sign-in request could not be completed. Start again on your device.') : undefined
      sendKoaPage(ctx, deviceCodeInputPage({ action: ctx.oidc.urlFor('code_verification'), xsrf: xsrfSecret(ctx), userCode, error }))
    },
    userCodeConfirmSource(ctx, _form, client, _deviceInfo, userCode) {
      const name = client.clientName ?? client.clientId
      // The MQTT client id the device asked for (`clientid` parameter) names the device.
      const params = (ctx.oidc.entities.DeviceCode as { params?: Record<string, unknown> } | undefined)?.params
      const deviceName = typeof params?.clientid === 'string' ? params.clientid : undefined
      sendKoaPage(ctx, deviceConfirmPage({ action: ctx.oidc.urlFor('code_verification'), xsrf: xsrfSecret(ctx), userCode, clientName: name, deviceName }))
    },
    async successSource(ctx) {
      sendKoaPage(ctx, deviceSuccessPage({ clientName: clientName(ctx), clientId: await grantedClientId(ctx, findAccount) }))
    },
  }
}

/** Whether the device code behind `userCode` was approved, denied or is being approved. */
async function wasUsed(ctx: KoaContextWithOIDC, userCode: string): Promise<boolean> {
  const normalized = userCode.replace(/[a-z]/g, (c) => c.toUpperCase()).replace(/\W/g, '')
  const code = await ctx.oidc.provider.DeviceCode.findByUserCode(normalized, { ignoreExpiration: true }).catch(() => undefined)
  const state = code as { error?: unknown; accountId?: unknown; inFlight?: unknown; consumed?: unknown } | undefined
  return Boolean(state && (state.error || state.accountId || state.inFlight || state.consumed))
}

/** The `clientid` claim the approved device code's ID token carries, if it asked for scope `mqtt`. */
async function grantedClientId(ctx: KoaContextWithOIDC, findAccount: FindAccount): Promise<string | undefined> {
  const code = ctx.oidc.entities.DeviceCode as { accountId?: string; scope?: string; claims?: { id_token?: Record<string, unknown> } } | undefined
  if (!code?.accountId || !code.scope?.split(' ').includes(MQTT_SCOPE)) return undefined
  try {
    const account = await findAccount(ctx, code.accountId, code as never)
    const claims = await account?.claims('id_token', code.scope, (code.claims?.id_token ?? {}) as never, [])
    return typeof claims?.clientid === 'string' ? claims.clientid : undefined
  } catch {
    // The page still says the device is signed in; the ID token is what counts.
    return undefined
  }
}

/** True when the request's session was loaded from the store (it has an expiry), not made up for this request. */
function persisted(ctx: KoaContextWithOIDC): boolean {
  return typeof (ctx.oidc.session as { exp?: unknown } | undefined)?.exp === 'number'
}

/**
 * oidc-provider's error page. Only the OAuth `error` code and its public
 * description are shown; server errors get a generic sentence.
 */
export function renderProviderError(ctx: KoaContextWithOIDC, out: { error: string; error_description?: string | undefined }): void {
  const message = out.error === 'server_error'
    ? 'Something went wrong on our side. Try again later.'
    : (out.error_description ?? 'The request could not be completed.')
  sendKoaPage(ctx, errorPage({ message, code: out.error }))
}

/**
 * The "Sign out?" page. A client's registered post_logout_redirect_uri
 * (oidc-provider has checked it) is where the browser goes after the form:
 * its origin is allowed as a form action, as browsers apply `form-action`
 * to the redirects that follow a submission.
 */
export function renderLogout(ctx: KoaContextWithOIDC, form: string): void {
  const state = ctx.oidc.session?.state as { postLogoutRedirectUri?: unknown } | undefined
  const target = typeof state?.postLogoutRedirectUri === 'string' ? URL.parse(state.postLogoutRedirectUri)?.origin : undefined
  sendKoaPage(ctx, logoutPage({ form, host: ctx.host }), { formActions: target && target !== 'null' ? [target] : [] })
}

export function renderLoggedOut(ctx: KoaContextWithOIDC): void {
  sendKoaPage(ctx, loggedOutPage())
}
