import { Router } from 'express'
import type { Request, Response } from 'express'
import { ID_TOKEN_TYP, createJwtVerifier, decodeJwtPayload } from '@mqtt-oidc/jose'
import type { JwtVerifier } from '@mqtt-oidc/jose'
import { IDP_TOKEN_ALGS } from '../verify-subject-token.js'
import { consolePath, csrfProblem, render, requireSession, type ConsoleContext } from './console-context.js'
import { pkceChallenge, randomToken } from './idp-client.js'
import { sameSecret } from './console-sessions.js'
import type { TokenResponse } from './idp-client.js'
import { errorPage, notAdminPage, notSetUpPage, signedOutPage } from './message-pages.js'

/** The console's callback, under the exchange's public URL (the IdP knows it as the console client's one redirect URI). */
export const CALLBACK_PATH = '/console/callback'

/**
 * Signing in and out: `/login` starts the authorization code flow with PKCE
 * (state, nonce and verifier kept server-side, bound to this browser by a
 * cookie), `/callback` redeems the code as the confidential console client,
 * verifies the ID token, asks the admin API who the token is (a person
 * without the admin scope is refused there), and only then starts a
 * session. `/logout` ends it here and at the IdP.
 */
export function consoleAuthRoutes(cc: ConsoleContext): Router {
  const router = Router()
  let idTokens: { audience: string; verifier: JwtVerifier } | undefined
  const idTokenVerifier = (clientId: string): JwtVerifier => {
    if (idTokens?.audience !== clientId) {
      idTokens = {
        audience: clientId,
        verifier: createJwtVerifier(cc.idpKeys, {
          algorithms: IDP_TOKEN_ALGS,
          ...ID_TOKEN_TYP,
          issuer: cc.idpIssuer,
          audience: clientId,
          requiredClaims: ['exp', 'sub', 'nonce'],
          what: 'ID token',
        }),
      }
    }
    return idTokens.verifier
  }
  const redirectUri = (): string => `${cc.issuer()}${CALLBACK_PATH}`

  router.get('/login', async (req: Request, res: Response) => {
    const client = cc.options.client()
    if (!client) return render(cc, res, notSetUpPage('The exchange has no client credentials for the console.'))
    const login = { state: randomToken(), nonce: randomToken(), codeVerifier: randomToken(), returnTo: consolePath(req.query.return) }
    const url = await cc.idp.authorizationUrl({
      state: login.state,
      nonce: login.nonce,
      codeChallenge: pkceChallenge(login.codeVerifier),
      redirectUri: redirectUri(),
      resource: cc.issuer(),
      prompt: req.query.prompt === 'login' ? 'login' : undefined,
    })
    cc.cookies.setLogin(res, await cc.sessions.startLogin(login))
    res.set('Cache-Control', 'no-store').redirect(303, url)
  })

  router.get('/callback', async (req: Request, res: Response) => {
    const loginId = cc.cookies.login(req)
    cc.cookies.clearLogin(res)
    const login = loginId === undefined ? undefined : await cc.sessions.takeLogin(loginId)
    const client = cc.options.client()
    if (!client) return render(cc, res, notSetUpPage('The exchange has no client credentials for the console.'))
    if (!login || !sameSecret(login.state, req.query.state)) {
      return render(cc, res, errorPage('Sign in again', 'This sign-in was not started in this browser, or took longer than 10 minutes.', 400, '/console/login'))
    }
    if (typeof req.query.error === 'string') {
      const message = req.query.error === 'access_denied' ? 'The sign-in was cancelled.' : `The identity provider refused the sign-in (${req.query.error}).`
      return render(cc, res, errorPage('Not signed in', message, 400, '/console/login'))
    }
    if (typeof req.query.code !== 'string')
      return render(cc, res, errorPage('Sign in again', 'The identity provider sent no authorization code.', 400, '/console/login'))
    const tokens = await cc.idp.redeem({ code: req.query.code, codeVerifier: login.codeVerifier, redirectUri: redirectUri(), resource: cc.issuer() })
    const idToken = tokens.id_token
    const claims = idToken === undefined ? undefined : (await idTokenVerifier(client.clientId).verify(idToken)).payload
    if (!idToken || !claims || claims.nonce !== login.nonce || typeof claims.sub !== 'string') {
      return render(cc, res, errorPage('Sign in again', "The identity provider's answer did not match this sign-in.", 400, '/console/login'))
    }
    const username = usernameOf(tokens, claims.sub)
    const started = await cc.sessions.create(
      {
        sub: claims.sub,
        username,
        idToken,
        accessToken: tokens.access_token,
        accessTokenExpiresAt: cc.now() + (tokens.expires_in ?? 300),
        refreshToken: tokens.refresh_token,
      },
      cc.now(),
    )
    // The admin API decides, exactly as for the CLI: a token without the admin scope is refused.
    const who = await cc.admin.call(started.id, started.session, 'GET', '/admin/whoami')
    if (who.status !== 200) {
      await cc.sessions.destroy(started.id)
      if (tokens.refresh_token) await cc.idp.revoke(tokens.refresh_token)
      cc.log.warn({ code: 'ERR_INSUFFICIENT_SCOPE', sub: claims.sub, status: who.status }, 'console: sign-in refused by the admin API')
      if (who.status === 403) return render(cc, res, notAdminPage(username))
      return render(
        cc,
        res,
        errorPage(
          'Sign-in failed',
          `The admin API did not accept the console's token (${describe(who.body)}): the identity provider must know this exchange as ${cc.issuer()} (MQTT_OIDC_IDP_EXCHANGE_URL).`,
          502,
        ),
      )
    }
    cc.log.info({ audit: true, who: username, sub: claims.sub, action: 'console.sign-in' }, 'admin: console.sign-in')
    cc.cookies.setSession(res, started.id, cc.options.sessionSeconds ?? 8 * 3600)
    res.set('Cache-Control', 'no-store').redirect(303, login.returnTo)
  })

  router.post('/logout', async (req: Request, res: Response) => {
    const signed = await requireSession(cc, req, res)
    if (!signed) return
    const problem = csrfProblem(cc, req, signed.session)
    if (problem) return render(cc, res, errorPage('Not signed out', `Not signed out: ${problem}. Reload the page and try again.`, 403), signed)
    await cc.sessions.destroy(signed.id)
    cc.cookies.clearSession(res)
    if (signed.session.refreshToken) await cc.idp.revoke(signed.session.refreshToken)
    cc.log.info({ audit: true, who: signed.session.username, sub: signed.session.sub, action: 'console.sign-out' }, 'admin: console.sign-out')
    const endSession = await cc.idp.endSessionUrl(signed.session.idToken, `${cc.issuer()}/console/signed-out`)
    res.redirect(303, endSession ?? '/console/signed-out')
  })

  router.get('/signed-out', async (_req: Request, res: Response) => {
    await render(cc, res, signedOutPage())
  })

  return router
}

/** The person's username, from the access token the IdP just handed over the back channel (for display; the admin API verifies it). */
function usernameOf(tokens: TokenResponse, sub: string): string {
  try {
    const payload = decodeJwtPayload(tokens.access_token, 'access token')
    return payload.sub === sub && typeof payload.username === 'string' ? payload.username : sub
  } catch {
    return sub
  }
}

function describe(body: unknown): string {
  const b = body as { error?: unknown; error_description?: unknown } | null
  return typeof b?.error_description === 'string' ? b.error_description : typeof b?.error === 'string' ? b.error : 'no answer'
}
