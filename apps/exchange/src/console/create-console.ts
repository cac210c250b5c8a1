import { Router } from 'express'
import type { NextFunction, Request, Response } from 'express'
import type { Logger } from 'pino'
import { isMqttOidcError, type Store } from '@mqtt-oidc/core'
import type { KeySource } from '@mqtt-oidc/jose'
import { createAdminCaller, NotAnAdmin, SignInEnded } from './admin-caller.js'
import { consoleAuthRoutes } from './console-auth-routes.js'
import { consoleBrokerRoutes } from './console-broker-routes.js'
import { render, type ConsoleContext } from './console-context.js'
import { consoleCookies } from './console-cookies.js'
import { DEFAULT_CONSOLE_IDLE_SECONDS, DEFAULT_CONSOLE_SESSION_SECONDS, type ConsoleOptions } from './console-options.js'
import { ASSETS, sendConsolePage } from './console-page.js'
import { createConsoleSessions } from './console-sessions.js'
import { createIdpClient, IdpRefused } from './idp-client.js'
import { errorPage, notAdminPage, notSetUpPage, signInPage } from './message-pages.js'

export interface ConsoleDeps {
  /** undefined: the console answers that it is not set up. */
  readonly options: ConsoleOptions | undefined
  readonly store: Store
  /** The exchange's public URL (known after listen()). */
  readonly issuer: () => string
  /** The exchange's own bound address: the console calls its admin API there. */
  readonly selfUrl: () => string
  readonly idpIssuer: string
  readonly idpKeys: KeySource
  readonly log: Logger
  readonly now: () => number
}

/**
 * The web console, mounted at /console: server-rendered pages (a script adds
 * the live sessions feed), a server-side session per signed-in person (the
 * browser holds a random id in an HttpOnly cookie; tokens stay on the
 * server), and every action one call of the admin API the CLI uses, made
 * with that person's own access token.
 */
export function createConsole(deps: ConsoleDeps): Router {
  const router = Router()
  router.get('/assets/:file', (req: Request<{ file: string }>, res: Response, next: NextFunction) => {
    const asset = Object.hasOwn(ASSETS, req.params.file) ? ASSETS[req.params.file] : undefined
    if (!asset) return next()
    res.set({ 'Content-Type': asset.type, 'Cache-Control': 'public, max-age=31536000, immutable', 'X-Content-Type-Options': 'nosniff' }).send(asset.body)
  })
  const options = deps.options
  if (!options) {
    router.use((_req: Request, res: Response) => {
      sendConsolePage(res, notSetUpPage('The console is turned off on this exchange (MQTT_OIDC_EXCHANGE_CONSOLE=false).'), {
        idpOrigin: new URL(deps.idpIssuer).origin,
      })
    })
    return router
  }
  const sessions = createConsoleSessions(deps.store, {
    sessionSeconds: options.sessionSeconds ?? DEFAULT_CONSOLE_SESSION_SECONDS,
    idleSeconds: options.idleSeconds ?? DEFAULT_CONSOLE_IDLE_SECONDS,
  })
  const idp = createIdpClient(deps.idpIssuer, options.client, options.idpFetchFrom)
  let cookies: ReturnType<typeof consoleCookies> | undefined
  const cc: ConsoleContext = {
    options,
    sessions,
    // Secure cookies exactly when the exchange's public URL is https (known after listen()).
    get cookies() {
      return (cookies ??= consoleCookies(deps.issuer().startsWith('https:')))
    },
    idp,
    admin: createAdminCaller({ selfUrl: deps.selfUrl, sessions, idp, resource: deps.issuer, now: deps.now }),
    issuer: deps.issuer,
    idpIssuer: deps.idpIssuer,
    idpKeys: deps.idpKeys,
    log: deps.log,
    now: deps.now,
  }
  router.use(consoleAuthRoutes(cc))
  router.use(consoleBrokerRoutes(cc))
  router.use((req: Request, res: Response) => render(cc, res, errorPage('Not found', `There is no console page at ${req.originalUrl.slice(0, 200)}.`, 404)))
  router.use((err: unknown, req: Request, res: Response, _next: NextFunction) => {
    if (res.headersSent) return void res.end()
    if (err instanceof SignInEnded) {
      cc.cookies.clearSession(res)
      if (req.get('accept')?.startsWith('application/json'))
        return void res.status(401).json({ error: 'invalid_token', error_description: 'sign in to the console again' })
      return void render(cc, res, signInPage(req.method === 'GET' ? req.originalUrl : '/console', 'Your sign-in has ended. Sign in again.'))
    }
    if (err instanceof NotAnAdmin) {
      cc.cookies.clearSession(res)
      return void render(cc, res, notAdminPage(err.username))
    }
    if (err instanceof IdpRefused || (isMqttOidcError(err) && err.code.startsWith('ERR_TOKEN_'))) {
      deps.log.warn({ code: isMqttOidcError(err) ? err.code : 'ERR_INVALID_GRANT', reason: err.message }, 'console: sign-in refused')
      return void render(cc, res, errorPage('Sign in again', `The sign-in did not complete: ${err.message}.`, 400, '/console/login'))
    }
    if (isMqttOidcError(err) && err.code === 'ERR_KEYS_UNAVAILABLE') {
      deps.log.error({ err }, 'console: the identity provider is out of reach')
      return void render(cc, res, errorPage('Try again shortly', 'The identity provider cannot be reached from the exchange right now.', 503))
    }
    deps.log.error({ err, path: req.path }, 'console request failed')
    void render(cc, res, errorPage('Something went wrong', "The console could not complete the request; the exchange's log says why. Try again.", 500))
  })
  return router
}
