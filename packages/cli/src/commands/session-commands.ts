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
import { addExitCodesHelp, addGlobalOptions, resolveSettings } from '../lib/settings.js'

/** `login`, `logout`, `whoami`. */
export function addSessionCommands(program: Command, io: CliIo): void {
  addExitCodesHelp(addGlobalOptions(program.command('login')))
    .description('sign in to the OIDC issuer and cache the ID token and refresh token (mode 0600)')
    .option('--device', 'device authorization flow: open a URL on any device and enter a code (default)')
    .option('--browser', 'authorization code + PKCE: sign in with a browser on this machine (loopback redirect to 127.0.0.1)')
    .option('--scope <scope>', 'scope to request', DEFAULT_LOGIN_SCOPE)
    .option('--no-qr', 'do not print a QR code (device flow)')
    .option('--no-open', 'do not try to open a browser (browser flow): print the URL only')
    .addHelpText('after', '\nWith --browser the browser must run on this machine (it is sent back to http://127.0.0.1:<port>/callback); on a headless gateway use --device.')
    .action(async (opts: LoginOptions, cmd: Command) => {
      if (opts.browser && opts.device) throw new CliError('give either --device or --browser, not both')
      const session = await openSession(resolveSettings(cmd, io.env))
      if (!opts.browser) {
        await runDeviceLogin(io, session, { scope: opts.scope, qr: opts.qr })
        return
      }
      const abort = new AbortController()
      const onSigint = (): void => abort.abort(new CliError('login cancelled'))
      process.once('SIGINT', onSigint)
      try {
        const tokens = await browserLogin(io, session.config, opts, abort.signal)
        await session.store.set(tokenStoreKey(session.config), tokens)
        reportLogin(io, session, tokens)
      } catch (err) {
        throw abort.signal.aborted ? abort.signal.reason : err
      } finally {
        process.off('SIGINT', onSigint)
      }
    })

  addGlobalOptions(program.command('logout'))
    .description('forget the cached login (and revoke its refresh token at the issuer when possible)')
    .action(async (_opts: unknown, cmd: Command) => {
      const s = resolveSettings(cmd, io.env)
      const store = createTokenStore(s.configDir)
      const key = { issuer: s.issuer, clientId: s.clientId }
      const tokens = await store.get(key)
      if (tokens === undefined) {
        writeLine(io.stderr, `Not logged in to ${s.issuer}.`)
        return
      }
      await store.delete(key)
      if (tokens.refreshToken !== undefined) await revokeQuietly(s.issuer, s.clientId, tokens.refreshToken, s.fetchFrom.issuer)
      writeLine(io.stderr, `Logged out of ${s.issuer}.`)
    })

  addExitCodesHelp(addGlobalOptions(program.command('whoami')))
    .description('show who is logged in: the ID token claims and its expiry (never the token)')
    .option('--json', 'print the claims as JSON')
    .action(async (opts: { json?: boolean }, cmd: Command) => {
      const { config, store } = await openSession(resolveSettings(cmd, io.env))
      const claims = decodeJwtPayload(await getIdToken(config, store), 'the ID token')
      const exp = typeof claims.exp === 'number' ? claims.exp : undefined
      const expires = exp === undefined ? undefined : new Date(exp * 1000).toISOString()
      if (opts.json) return writeJson(io.stdout, { ...claims, expiresAt: expires })
      const rows: Array<[string, unknown]> = [
        ['issuer', claims.iss], ['subject', claims.sub], ['clientid', claims.clientid], ['username', claims.username],
        ['expires', expires && `${expires} (in ${Math.max(0, Math.round((exp ?? 0) - Date.now() / 1000))}s)`],
      ]
      for (const [k, v] of rows) if (v !== undefined) writeLine(io.stdout, `${k.padEnd(9)} ${String(v)}`)
    })
}

interface LoginOptions { device?: boolean; browser?: boolean; scope: string; qr: boolean; open: boolean }

async function browserLogin(io: CliIo, config: oidc.Configuration, opts: LoginOptions, signal: AbortSignal): Promise<TokenSet> {
  return loginWithBrowser(config, {
    scope: opts.scope,
    signal,
    onAuthorizationUrl: (url) => {
      const opened = opts.open && io.env.canOpenBrowser === true && openBrowser(url)
      writeLine(io.stderr, opened ? 'Opening your browser to sign in. If it does not open, open this URL on this machine:' : 'To sign in, open this URL in a browser on this machine:')
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
