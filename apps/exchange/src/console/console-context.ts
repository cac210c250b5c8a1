import type { Request, Response } from 'express'
import type { Logger } from 'pino'
import type { KeySource } from '@mqtt-oidc/jose'
import type { AdminCaller } from './admin-caller.js'
import type { ConsoleCookies } from './console-cookies.js'
import type { ConsoleOptions } from './console-options.js'
import type { ConsoleSession, ConsoleSessions } from './console-sessions.js'
import { sameSecret } from './console-sessions.js'
import type { IdpClient } from './idp-client.js'
import { sendConsolePage, type ConsolePage } from './console-page.js'
import { signInPage } from './message-pages.js'

/** What the console's routes share; built once by createConsole. */
export interface ConsoleContext {
  readonly options: ConsoleOptions
  readonly sessions: ConsoleSessions
  readonly cookies: ConsoleCookies
  readonly idp: IdpClient
  readonly admin: AdminCaller
  /** The exchange's public URL: the admin API's audience, and where the console lives. */
  readonly issuer: () => string
  /** Our IdP: its issuer and keys (ID tokens are verified with them). */
  readonly idpIssuer: string
  readonly idpKeys: KeySource
  readonly log: Logger
  readonly now: () => number
}

/** A signed-in request: the session and its cookie value. */
export interface Signed {
  readonly id: string
  readonly session: ConsoleSession
}

/** Sends a page in the console's frame, showing (and clearing) the session's notice. */
export async function render(cc: ConsoleContext, res: Response, page: ConsolePage, signed?: Signed): Promise<void> {
  const notice = signed?.session.notice
  if (signed && notice !== undefined) await cc.sessions.save(signed.id, { ...signed.session, notice: undefined }, cc.now())
  sendConsolePage(res, page, {
    user: signed && { username: signed.session.username, csrf: signed.session.csrf },
    notice,
    idpOrigin: new URL(cc.idpIssuer).origin,
  })
}

/** The request's console session, or (having answered: the sign-in page, or a JSON 401) undefined. */
export async function requireSession(cc: ConsoleContext, req: Request, res: Response): Promise<Signed | undefined> {
  const id = cc.cookies.session(req)
  const session = id === undefined ? undefined : await cc.sessions.get(id, cc.now())
  if (id !== undefined && session !== undefined) {
    // An active session stays open up to its idle limit; one write a minute at most.
    if (cc.now() - session.lastSeenAt >= 60) await cc.sessions.save(id, session, cc.now())
    return { id, session }
  }
  if (id !== undefined) cc.cookies.clearSession(res)
  if (wantsJson(req)) {
    res.status(401).set('Cache-Control', 'no-store').json({ error: 'invalid_token', error_description: 'sign in to the console again' })
  } else {
    await render(
      cc,
      res,
      signInPage(req.method === 'GET' ? req.originalUrl : '/console', id === undefined ? undefined : 'Your console session has ended. Sign in again.'),
    )
  }
  return undefined
}

/**
 * CSRF protection of every state-changing request: the session's
 * synchronizer token (form field `csrf` or header `X-CSRF-Token`), and, when
 * the browser says where the request comes from, this origin only.
 */
export function csrfProblem(cc: ConsoleContext, req: Request, session: ConsoleSession): string | undefined {
  const origin = req.get('origin')
  if (origin !== undefined && origin !== new URL(cc.issuer()).origin) return 'the request came from another site'
  // A page of another port on this host (the IdP's) is "same-site": only this origin's own pages may post.
  const site = req.get('sec-fetch-site')
  if (site !== undefined && site !== 'same-origin') return 'the request came from another site'
  const sent = req.get('x-csrf-token') ?? (req.body as Record<string, unknown> | undefined)?.csrf
  return sameSecret(session.csrf, sent) ? undefined : 'the form has expired'
}

/** Whether the caller is the console's script (fetch), which wants JSON rather than a page. */
export function wantsJson(req: Request): boolean {
  return (req.get('accept') ?? '').startsWith('application/json')
}

/** A path under /console to return to; anything else is the console's start. */
export function consolePath(value: unknown): string {
  return typeof value === 'string' && /^\/console(\/[^\s\\]*)?(\?[^\s\\]*)?$/.test(value) && !value.startsWith('//') ? value : '/console'
}
