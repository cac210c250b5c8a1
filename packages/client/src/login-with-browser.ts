import { createHash } from 'node:crypto'
import { createServer } from 'node:http'
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import * as oidc from 'openid-client'
import type { Configuration } from 'openid-client'
import { LoginFailed } from './errors.js'
import { tokenSetFromResponse } from './lib/token-set-from-response.js'
import { DEFAULT_LOGIN_SCOPE } from './login-with-device-flow.js'
import type { TokenSet } from './token-set.js'

export interface BrowserLoginOptions {
  /** Scope to request. Default `'openid mqtt offline_access'`. */
  readonly scope?: string | undefined
  /** Asks for one of the account's MQTT client ids (the IdP's `clientid` parameter); unknown ones are refused. */
  readonly clientid?: string | undefined
  /**
   * Called with the authorization URL once the loopback listener is up: open
   * it in a browser (the CLI runs `xdg-open` when there is a display) and/or
   * show it to the person.
   */
  readonly onAuthorizationUrl: (url: string) => void | Promise<void>
  /** Loopback port for the redirect. Default 0: a random free port. */
  readonly port?: number | undefined
  /** Give up after this many milliseconds. Default 300 000 (5 min). */
  readonly timeoutMs?: number | undefined
  readonly signal?: AbortSignal | undefined
}

// The page the browser lands on: styled like the IdP's pages, one stylesheet allowed by its hash, nothing else.
const CALLBACK_CSS = [
  ':root{color-scheme:light dark;font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;line-height:1.5}',
  'body{margin:0;padding:2rem 1rem;background:Canvas;color:CanvasText}',
  'main{max-width:26rem;margin:0 auto;padding:1.5rem;border:1px solid #8886;border-radius:.5rem}',
  '.brand{margin:0 0 .25rem;font-size:.85rem;font-weight:600;letter-spacing:.04em;opacity:.7}',
  'h1{font-size:1.4rem;margin:0 0 1rem}',
  'h1.ok::before{content:"\\2713  ";color:#15803d}',
  'h1.failed::before{content:"\\2717  ";color:#b91c1c}',
  'code{font-family:ui-monospace,monospace}',
].join('')
const CALLBACK_HEADERS = {
  'content-type': 'text/html; charset=utf-8',
  'cache-control': 'no-store',
  'referrer-policy': 'no-referrer',
  'x-content-type-options': 'nosniff',
  'content-security-policy': `default-src 'none'; style-src 'sha256-${createHash('sha256').update(CALLBACK_CSS).digest('base64')}'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'`,
}
const escapeHtml = (value: string): string => value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)

/** `body` is markup (its values escaped by the caller). */
function callbackPage(outcome: 'ok' | 'failed', title: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} · mqtt-oidc</title>
<style>${CALLBACK_CSS}</style>
</head>
<body>
<main data-page="cli-callback">
<p class="brand">mqtt-oidc</p>
<h1 class="${outcome}">${title}</h1>
${body}
</main>
</body>
</html>
`
}

/** Who signed in, from the ID token's claims (`username`, `clientid` when the scope asked for them). */
function signedInPage(claims: Readonly<Record<string, unknown>> | undefined): string {
  const username = typeof claims?.username === 'string' ? claims.username : undefined
  const clientid = typeof claims?.clientid === 'string' ? claims.clientid : undefined
  const who = username === undefined ? '' : `<p>Signed in as <strong>${escapeHtml(username)}</strong>${clientid === undefined ? '' : `, MQTT client id <code>${escapeHtml(clientid)}</code>`}.</p>\n`
  return callbackPage('ok', 'Signed in', `${who}<p>You can close this window and return to the terminal.</p>`)
}

/**
 * Logs in with the authorization code flow and PKCE (S256) on a loopback
 * redirect (RFC 8252): listens on `http://127.0.0.1:<random port>/callback`,
 * hands the authorization URL to `onAuthorizationUrl`, waits for the browser
 * to come back, checks `state` and the ID token's `nonce`, and redeems the
 * code. Asks for consent (`prompt=consent`) when `offline_access` is in the
 * scope, since that is what makes the IdP issue a refresh token.
 *
 * Throws `LoginFailed` when the person denies, the IdP answers with an
 * error, the answer does not match (state), or it times out.
 *
 * @example
 * const tokens = await loginWithBrowser(config, { onAuthorizationUrl: (url) => console.error(`open ${url}`) })
 */
export async function loginWithBrowser(config: Configuration, options: BrowserLoginOptions): Promise<TokenSet> {
  const scope = options.scope ?? DEFAULT_LOGIN_SCOPE
  const verifier = oidc.randomPKCECodeVerifier()
  const state = oidc.randomState()
  const nonce = oidc.randomNonce()
  let settle!: { resolve: (t: TokenSet) => void; reject: (e: unknown) => void }
  const result = new Promise<TokenSet>((resolve, reject) => { settle = { resolve, reject } })
  result.catch(() => undefined) // a failure before anyone awaits is still returned below

  let redirectUri = ''
  const server = createServer((req, res) => void answer(req, res))
  const answer = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', redirectUri)
    if (req.method !== 'GET' || url.pathname !== '/callback') return void res.writeHead(404).end()
    try {
      if (url.searchParams.get('state') !== state) throw new LoginFailed('the browser came back with a different state: the login was not started here; try again')
      const response = await oidc.authorizationCodeGrant(config, url, { pkceCodeVerifier: verifier, expectedState: state, expectedNonce: nonce, idTokenExpected: true })
      const tokens = tokenSetFromResponse(response)
      res.writeHead(200, CALLBACK_HEADERS).end(signedInPage(response.claims()))
      settle.resolve(tokens)
    } catch (err) {
      const failure = toLoginFailed(err)
      res.writeHead(400, CALLBACK_HEADERS).end(callbackPage('failed', 'Sign-in failed', '<p>Return to the terminal to see why.</p>'))
      settle.reject(failure)
    }
  }
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve())
  })
  redirectUri = `http://127.0.0.1:${(server.address() as AddressInfo).port}/callback`
  const timer = setTimeout(() => settle.reject(new LoginFailed('nobody completed the browser login in time; run the login again')), options.timeoutMs ?? 300_000)
  const onAbort = (): void => settle.reject(options.signal?.reason)
  options.signal?.addEventListener('abort', onAbort, { once: true })
  try {
    if (options.signal?.aborted) throw options.signal.reason
    const url = oidc.buildAuthorizationUrl(config, {
      redirect_uri: redirectUri,
      scope,
      ...(options.clientid ? { clientid: options.clientid } : {}),
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state,
      nonce,
      ...(scope.split(' ').includes('offline_access') ? { prompt: 'consent' } : {}),
    })
    await options.onAuthorizationUrl(url.href)
    return await result
  } finally {
    clearTimeout(timer)
    options.signal?.removeEventListener('abort', onAbort)
    server.closeAllConnections()
    server.close()
  }
}

function toLoginFailed(err: unknown): LoginFailed {
  if (err instanceof LoginFailed) return err
  if (err instanceof oidc.AuthorizationResponseError || err instanceof oidc.ResponseBodyError) {
    const why = err.error === 'access_denied' ? 'the login was denied' : `the identity provider answered ${err.error}`
    return new LoginFailed(`${why}${err.error_description ? ` (${err.error_description})` : ''}`, { cause: err, error: err.error })
  }
  return new LoginFailed(`the browser login failed: ${err instanceof Error ? err.message : String(err)}`, { cause: err })
}
