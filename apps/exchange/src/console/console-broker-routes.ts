import { Router } from 'express'
import type { Request, Response } from 'express'
import { decodeJwtPayload } from '@mqtt-oidc/jose'
import { consolePath, csrfProblem, render, requireSession, wantsJson, type ConsoleContext, type Signed } from './console-context.js'
import { brokerListPage, brokerPage, issuedPage, type BrokerView, type IssueInput, type IssuedCredential } from './broker-pages.js'
import { credentialsPage, historyPage, sessionsPage, type CredentialSearch, type HistoryView, type SessionsView } from './activity-pages.js'
import type { CredentialView } from '@mqtt-oidc/core'
import { errorPage } from './message-pages.js'
import type { AdminAnswer } from './admin-caller.js'

const api = (id: string): string => `/admin/brokers/${encodeURIComponent(id)}`
const text = (value: unknown): string => (typeof value === 'string' ? value.trim() : '')

/**
 * The console's pages and actions, each one admin API call (or two) made as
 * the signed-in person: brokers, a broker with its policy and the issue
 * form, credentials with search, revoke and unrevoke, the revocation history,
 * and the live sessions with their SSE feed.
 */
export function consoleBrokerRoutes(cc: ConsoleContext): Router {
  const router = Router()

  /** Runs `handle` for a signed-in person; a state-changing request must pass the CSRF checks first. */
  const signedIn =
    (handle: (req: Request<{ id: string }>, res: Response, signed: Signed) => Promise<void>) =>
    async (req: Request<{ id: string }>, res: Response): Promise<void> => {
      const signed = await requireSession(cc, req, res)
      if (!signed) return
      const problem = req.method === 'POST' ? csrfProblem(cc, req, signed.session) : undefined
      if (problem) {
        cc.log.warn({ code: 'ERR_CSRF', sub: signed.session.sub, path: req.path }, 'console: request refused')
        if (wantsJson(req)) return void res.status(403).json({ error: 'access_denied', error_description: `${problem}; reload the page` })
        return render(cc, res, errorPage('Nothing was done', `Nothing was done: ${problem}. Reload the page and try again.`, 403), signed)
      }
      await handle(req, res, signed)
    }
  const call = (signed: Signed, method: string, path: string, body?: unknown): Promise<AdminAnswer> =>
    cc.admin.call(signed.id, signed.session, method, path, body)
  /** Shows the admin API's refusal as a page. */
  const refused = (res: Response, signed: Signed, answer: AdminAnswer, back?: string): Promise<void> =>
    render(cc, res, errorPage(answer.status === 404 ? 'Not found' : 'Refused', describe(answer), answer.status, back), signed)

  router.get(
    '/',
    signedIn(async (_req, res, signed) => {
      const answer = await call(signed, 'GET', '/admin/brokers')
      if (answer.status !== 200) return refused(res, signed, answer)
      await render(cc, res, brokerListPage(answer.body as BrokerView[]), signed)
    }),
  )

  router.get(
    '/brokers/:id',
    signedIn(async (req, res, signed) => {
      const answer = await call(signed, 'GET', api(req.params.id))
      if (answer.status !== 200) return refused(res, signed, answer)
      await render(cc, res, brokerPage(answer.body as BrokerView, signed.session.csrf), signed)
    }),
  )

  router.post(
    '/brokers/:id/issue',
    signedIn(async (req, res, signed) => {
      const broker = await call(signed, 'GET', api(req.params.id))
      if (broker.status !== 200) return refused(res, signed, broker)
      const form = req.body as Record<string, unknown>
      const input: IssueInput = {
        number: text(form.number),
        clientIds: text(form.clientIds),
        expiration: text(form.expiration),
        username: text(form.username),
        notBefore: text(form.notBefore),
      }
      const clientIds = (input.clientIds ?? '')
        .split(/\r?\n/)
        .map((id) => id.trim())
        .filter(Boolean)
      const expiration = input.expiration === '' ? undefined : /^-?\d+$/.test(input.expiration ?? '') ? Number(input.expiration) : input.expiration
      const answer = await call(signed, 'POST', `${api(req.params.id)}/credentials`, {
        ...(clientIds.length > 0 ? { clientIds } : { number: input.number === '' ? 1 : input.number }),
        ...(expiration === undefined ? {} : { expiration }),
        ...(input.username ? { username: input.username } : {}),
        ...(input.notBefore ? { notBefore: input.notBefore } : {}),
      })
      if (answer.status !== 200) {
        return render(cc, res, brokerPage(broker.body as BrokerView, signed.session.csrf, { input, error: describe(answer) }), signed)
      }
      const issued: IssuedCredential[] = Object.entries(answer.body as Record<string, string>).map(([clientId, token]) => {
        const claims = decodeJwtPayload(token)
        return {
          clientId,
          token,
          jti: String(claims.jti),
          expiresAt: typeof claims.exp === 'number' ? claims.exp : null,
          username: typeof claims.username === 'string' ? claims.username : null,
        }
      })
      await render(cc, res, issuedPage(broker.body as BrokerView, issued, cc.now(), signed.session.username), signed)
    }),
  )

  router.get(
    '/brokers/:id/credentials',
    signedIn(async (req, res, signed) => {
      const search: CredentialSearch = {
        search: text(req.query.search).slice(0, 256),
        state: (['live', 'revoked', 'expired'] as const).find((s) => s === req.query.state) ?? '',
        source: (['admin', 'exchange'] as const).find((s) => s === req.query.source) ?? '',
      }
      const query = new URLSearchParams({
        limit: '100',
        ...(search.search ? { search: search.search } : {}),
        ...(search.source ? { source: search.source } : {}),
        ...(search.state === 'live'
          ? { revoked: 'false', expired: 'false' }
          : search.state === 'revoked'
            ? { revoked: 'true' }
            : search.state === 'expired'
              ? { expired: 'true', revoked: 'false' }
              : {}),
        ...(typeof req.query.cursor === 'string' ? { cursor: req.query.cursor } : {}),
      })
      const answer = await call(signed, 'GET', `${api(req.params.id)}/credentials?${query.toString()}`)
      if (answer.status !== 200) return refused(res, signed, answer, `/console/brokers/${encodeURIComponent(req.params.id)}/credentials`)
      const { credentials, next } = answer.body as { credentials: CredentialView[]; next: string | null }
      await render(cc, res, credentialsPage(req.params.id, credentials, search, next, signed.session.csrf, req.originalUrl), signed)
    }),
  )

  for (const action of ['revoke', 'unrevoke'] as const) {
    router.post(
      `/brokers/:id/${action}`,
      signedIn(async (req, res, signed) => {
        const form = req.body as Record<string, unknown>
        const jti = text(form.jti)
        const back = consolePath(form.return)
        const answer = await call(signed, action === 'revoke' ? 'POST' : 'DELETE', `${api(req.params.id)}/revocations`, { jtis: [jti] })
        if (wantsJson(req)) return void res.status(answer.status).set('Cache-Control', 'no-store').json(answer.body)
        if (answer.status !== 200) return refused(res, signed, answer, back)
        const notice = `${action === 'revoke' ? 'Revoked' : 'Unrevoked'} jti ${jti}${action === 'revoke' ? ': its sessions are being closed.' : '.'}`
        await cc.sessions.save(signed.id, { ...signed.session, notice }, cc.now())
        res.redirect(303, back)
      }),
    )
  }

  router.get(
    '/brokers/:id/revocations',
    signedIn(async (req, res, signed) => {
      const before = typeof req.query.before === 'string' && /^\d{1,15}$/.test(req.query.before) ? `&before=${req.query.before}` : ''
      const answer = await call(signed, 'GET', `${api(req.params.id)}/revocations/history?limit=100${before}`)
      if (answer.status !== 200) return refused(res, signed, answer)
      await render(cc, res, historyPage(req.params.id, answer.body as HistoryView), signed)
    }),
  )

  router.get(
    '/brokers/:id/sessions',
    signedIn(async (req, res, signed) => {
      const search = text(req.query.search).slice(0, 256)
      const answer = await call(signed, 'GET', `${api(req.params.id)}/sessions?limit=500${search ? `&search=${encodeURIComponent(search)}` : ''}`)
      if (answer.status !== 200) return refused(res, signed, answer)
      await render(cc, res, sessionsPage(req.params.id, answer.body as SessionsView, search, signed.session.csrf, req.originalUrl), signed)
    }),
  )

  // The live feed of the sessions page: the admin API's SSE stream, passed through as the person
  // (it ends when their access token expires; the browser reconnects and gets a fresh token).
  router.get(
    '/brokers/:id/sessions/events',
    signedIn(async (req, res, signed) => {
      const search = text(req.query.search).slice(0, 256)
      const abort = new AbortController()
      res.on('close', () => abort.abort())
      const upstream = await cc.admin.open(
        signed.id,
        signed.session,
        `${api(req.params.id)}/sessions/stream?limit=500${search ? `&search=${encodeURIComponent(search)}` : ''}`,
        abort.signal,
      )
      if (!upstream.ok || !upstream.body) {
        res
          .status(upstream.status)
          .set('Cache-Control', 'no-store')
          .json(await upstream.json().catch(() => null))
        return
      }
      res.status(200).set({ 'Content-Type': 'text/event-stream; charset=utf-8', 'Cache-Control': 'no-store', 'X-Accel-Buffering': 'no' })
      res.flushHeaders()
      try {
        for await (const chunk of upstream.body) res.write(chunk)
      } catch {
        // the browser went away (abort) or the stream broke: either way it is over
      }
      res.end()
    }),
  )

  return router
}

function describe(answer: AdminAnswer): string {
  const body = answer.body as { error?: unknown; error_description?: unknown } | null
  return typeof body?.error_description === 'string' ? body.error_description : `the admin API answered ${answer.status}`
}
