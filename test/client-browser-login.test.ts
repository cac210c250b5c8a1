import { decodeJwt } from 'jose'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { discoverIssuer, getIdToken, LoginFailed, loginWithBrowser, createTokenStore, tokenStoreKey } from '@mqtt-oidc/client'
import { join } from 'node:path'
import { BIN } from './support/cli-bin.js'
import { runNode, startNode } from '@mqtt-oidc/test-support/run-tsx'
import { completeAuthCodeLogin } from '@mqtt-oidc/test-support/idp-user-agent'
import { startTestStack, type TestStack } from './support/start-test-stack.js'

// loginWithBrowser against the real IdP, the person played by the scripted
// browser: it signs in and consents, then the browser follows the redirect
// to the loopback listener, which redeems the code (PKCE S256).

let stack: TestStack
let config: Awaited<ReturnType<typeof discoverIssuer>>
const user = { username: 'browser-user', password: 'browser-password-1' }

beforeAll(async () => {
  stack = await startTestStack()
  await stack.addAccount(user.username, user.password, ['browser-client-1'])
  config = await discoverIssuer(stack.idpUrl, 'mqtt-oidc-cli')
}, 30_000)
afterAll(async () => { await stack?.close() })

/** The browser's last hop: follow the redirect to the loopback callback and read the page. */
async function follow(redirect: URL): Promise<{ status: number; text: string; csp: string | null }> {
  const res = await fetch(redirect)
  return { status: res.status, text: await res.text(), csp: res.headers.get('content-security-policy') }
}

/** The callback page's `<main>`, as served. */
const mainOf = (html: string | undefined): string | undefined => /<main[\s\S]*<\/main>/.exec(html ?? '')?.[0]

describe('loginWithBrowser (authorization code + PKCE on a loopback redirect)', () => {
  it('signs in, gets an ID token with the MQTT claims and a refresh token that refreshes', async () => {
    let asked: URL | undefined
    let page: { status: number; text: string; csp: string | null } | undefined
    const tokens = await loginWithBrowser(config, {
      onAuthorizationUrl: async (url) => {
        asked = new URL(url)
        const redirect = await completeAuthCodeLogin(url, user)
        page = await follow(redirect)
      },
    })
    const q = asked!.searchParams
    expect(q.get('redirect_uri')).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/callback$/)
    expect(q.get('code_challenge_method')).toBe('S256')
    expect(q.get('code_challenge')).toMatch(/^[\w-]{43}$/)
    expect(q.get('state')).toMatch(/^[\w-]{43}$/)
    expect(q.get('nonce')).toMatch(/^[\w-]{43}$/)
    expect(q.get('prompt')).toBe('consent')
    expect(q.get('scope')).toBe('openid mqtt offline_access')
    expect(page?.status).toBe(200)
    // Styled like the IdP's pages, says who signed in with which MQTT client id, under a CSP that allows its one stylesheet only.
    expect(mainOf(page?.text)).toBe([
      '<main data-page="cli-callback">', '<p class="brand">mqtt-oidc</p>', '<h1 class="ok">Signed in</h1>',
      `<p>Signed in as <strong>${user.username}</strong>, MQTT client id <code>browser-client-1</code>.</p>`,
      '<p>You can close this window and return to the terminal.</p>', '</main>',
    ].join('\n'))
    expect(page?.text).toContain('<title>Signed in · mqtt-oidc</title>')
    expect(page?.csp).toMatch(/^default-src 'none'; style-src 'sha256-[A-Za-z0-9+/]+='; frame-ancestors 'none'; base-uri 'none'; form-action 'none'$/)
    expect(decodeJwt(tokens.idToken)).toMatchObject({ sub: expect.any(String), clientid: 'browser-client-1', username: user.username, nonce: q.get('nonce') })
    expect(tokens.refreshToken).toEqual(expect.any(String))

    // The refresh token works: store it as expired and ask for an ID token.
    const store = createTokenStore(join(stack.dataDir, 'browser-config'))
    await store.set(tokenStoreKey(config), { ...tokens, expiresAt: 0 })
    const refreshed = await getIdToken(config, store)
    expect((await store.get(tokenStoreKey(config)))?.expiresAt).toBeGreaterThan(Date.now() / 1000) // a refresh wrote a new entry
    expect(decodeJwt(refreshed)).toMatchObject({ clientid: 'browser-client-1' })
  })

  it('refuses a callback whose state is not the one it sent, with LoginFailed', async () => {
    const err = await loginWithBrowser(config, {
      onAuthorizationUrl: async (url) => {
        const redirect = await completeAuthCodeLogin(url, user)
        redirect.searchParams.set('state', 'forged-state')
        const page = await follow(redirect)
        expect(page.status).toBe(400)
        expect(mainOf(page.text)).toBe('<main data-page="cli-callback">\n<p class="brand">mqtt-oidc</p>\n<h1 class="failed">Sign-in failed</h1>\n<p>Return to the terminal to see why.</p>\n</main>')
      },
    }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(LoginFailed)
    expect(err).toMatchObject({ code: 'ERR_LOGIN_FAILED', message: 'the browser came back with a different state: the login was not started here; try again' })
  })

  it('reports a denied consent as LoginFailed with error access_denied', async () => {
    const err = await loginWithBrowser(config, {
      onAuthorizationUrl: async (url) => { await follow(await completeAuthCodeLogin(url, { ...user, approve: false })) },
    }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(LoginFailed)
    expect(err).toMatchObject({ code: 'ERR_LOGIN_FAILED', error: 'access_denied' })
  })
})

describe('mqtt-oidc login --browser', () => {
  it('prints the URL (no browser here), completes when the browser comes back, and caches the login', async () => {
    const configDir = join(stack.dataDir, 'cli-browser-config')
    const env = { MQTT_OIDC_CLI_ISSUER: stack.idpUrl, MQTT_OIDC_CLI_CONFIG_DIR: configDir }
    const login = startNode(BIN, ['login', '--browser', '--no-open'], { cwd: stack.dataDir, env })
    await login.waitForStderr(/^Waiting for the browser to come back/m)
    const url = /^ {2}(http\S+)$/m.exec(login.stderr())?.[1] ?? ''
    expect(new URL(url).searchParams.get('code_challenge_method')).toBe('S256')
    expect((await follow(await completeAuthCodeLogin(url, user))).status).toBe(200)
    const r = await login.done
    expect(r.code).toBe(0)
    expect(r.stdout).toBe('')
    expect(r.stderr).toMatch(/^To sign in, open this URL in a browser on this machine:$/m)
    // browser-user is per-login and the sign-in above still holds browser-client-1:
    // this second sign-in gets its own derived client id.
    expect(r.stderr).toMatch(/^Logged in to \S+ as browser-user \(MQTT client id browser-client-1-[a-z2-7]{10}\)\.$/m)
    const who = await runNode(BIN, ['whoami'], { cwd: stack.dataDir, env })
    expect(who.stdout).toMatch(/^clientid {2}browser-client-1-[a-z2-7]{10}$/m)
  })
})
