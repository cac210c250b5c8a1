import type { Command } from 'commander'
import { decodeJwtPayload } from '@mqtt-oidc/jose'
import * as oidc from 'openid-client'
import { createTokenStore } from '@mqtt-oidc/client'
import { discoverIssuer } from '@mqtt-oidc/client'
import { getIdToken } from '@mqtt-oidc/client'
import { loginWithBrowser } from '@mqtt-oidc/client'
import { DEFAULT_LOGIN_SCOPE } from '@mqtt-oidc/client'
import type { TokenSet } from '@mqtt-oidc/client'
import { tokenStoreKey } from '@mqtt-oidc/client'
import { CliError } from '../lib/cli-error.js'
import { writeJson, writeLine } from '../lib/cli-io.js'
import type { CliIo } from '../lib/cli-io.js'
import { openBrowser } from '../lib/open-browser.js'
import { reportLogin, runDeviceLogin } from '../lib/device-login.js'
import { openSession } from '../lib/session.js'
import { resolveSettings } from '../lib/settings.js'

export interface LoginOptions {
  device?: boolean
  browser?: boolean
  scope?: string
  qr: boolean
  open: boolean
  json?: boolean
}

// The actions of `login`, `logout` and `whoami` (session-commands.ts), loaded only when one runs.

/** `login`: the device flow (default) or the browser's code flow, then who signed in. */
export async function login(io: CliIo, opts: LoginOptions, cmd: Command): Promise<void> {
  const session = await openSession(resolveSettings(cmd, io.env))
  const scope = opts.scope ?? DEFAULT_LOGIN_SCOPE
  let tokens: TokenSet
  if (!opts.browser) {
    tokens = await runDeviceLogin(io, session, { scope, qr: opts.qr })
  } else {
    const abort = new AbortController()
    const onSigint = (): void => abort.abort(new CliError('login cancelled'))
    process.once('SIGINT', onSigint)
    try {
      tokens = await browserLogin(io, session.config, { ...opts, scope }, abort.signal)
      await session.store.set(tokenStoreKey(session.config), tokens)
      reportLogin(io, session, tokens)
    } catch (err) {
      throw abort.signal.aborted ? abort.signal.reason : err
    } finally {
      process.off('SIGINT', onSigint)
    }
  }
  if (opts.json) {
    const claims = decodeJwtPayload(tokens.idToken, 'the ID token')
    writeJson(io.stdout, { issuer: claims.iss, subject: claims.sub, username: claims.username, clientid: claims.clientid, expiresAt: claims.exp })
  }
}

/** `logout`: forgets the cached login and revokes its refresh token when the issuer can. */
export async function logout(io: CliIo, opts: { json?: boolean }, cmd: Command): Promise<void> {
  const s = resolveSettings(cmd, io.env)
  const store = createTokenStore(s.configDir)
  const key = { issuer: s.issuer, clientId: s.clientId }
  const tokens = await store.get(key)
  if (tokens !== undefined) {
    await store.delete(key)
    if (tokens.refreshToken !== undefined) await revokeQuietly(s.issuer, s.clientId, tokens.refreshToken, s.fetchFrom.issuer)
  }
  if (opts.json) writeJson(io.stdout, { issuer: s.issuer, loggedOut: tokens !== undefined })
  else writeLine(io.stderr, tokens === undefined ? `Not logged in to ${s.issuer}.` : `Logged out of ${s.issuer}.`)
}

/** `whoami`: the ID token's claims, never the token. */
export async function whoami(io: CliIo, opts: { json?: boolean }, cmd: Command): Promise<void> {
  const { config, store } = await openSession(resolveSettings(cmd, io.env))
  const claims = decodeJwtPayload(await getIdToken(config, store), 'the ID token')
  const exp = typeof claims.exp === 'number' ? claims.exp : undefined
  const expires = exp === undefined ? undefined : new Date(exp * 1000).toISOString()
  if (opts.json) return writeJson(io.stdout, { ...claims, expiresAt: expires })
  const rows: Array<[string, unknown]> = [
    ['issuer', claims.iss],
    ['subject', claims.sub],
    ['clientid', claims.clientid],
    ['username', claims.username],
    ['expires', expires && `${expires} (in ${Math.max(0, Math.round((exp ?? 0) - Date.now() / 1000))}s)`],
  ]
  for (const [k, v] of rows)
    if (v !== undefined) writeLine(io.stdout, `${k.padEnd(9)} ${typeof v === 'string' || typeof v === 'number' ? v : JSON.stringify(v)}`)
}

async function browserLogin(io: CliIo, config: oidc.Configuration, opts: LoginOptions & { scope: string }, signal: AbortSignal): Promise<TokenSet> {
  return loginWithBrowser(config, {
    scope: opts.scope,
    signal,
    onAuthorizationUrl: (url) => {
      const opened = opts.open && io.env.canOpenBrowser === true && openBrowser(url)
      writeLine(
        io.stderr,
        opened
          ? 'Opening your browser to sign in. If it does not open, open this URL on this machine:'
          : 'To sign in, open this URL in a browser on this machine:',
      )
      writeLine(io.stderr, `  ${url}`)
      writeLine(io.stderr, 'Waiting for the browser to come back (Ctrl-C to cancel)...')
    },
  })
}

async function revokeQuietly(issuer: string, clientId: string, refreshToken: string, fetchFrom: string | undefined): Promise<void> {
  try {
    const config = await discoverIssuer(issuer, clientId, { timeout: 5, fetchFrom })
    if (config.serverMetadata().revocation_endpoint !== undefined) {
      await oidc.tokenRevocation(config, refreshToken, { token_type_hint: 'refresh_token' })
    }
  } catch {
    // Best effort: the local copy is gone either way, and the IdP may be down.
  }
}
