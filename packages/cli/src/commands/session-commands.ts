import type { Command } from 'commander'
import { CliError } from '../lib/cli-error.js'
import type { CliIo } from '../lib/cli-io.js'
import { addExitCodesHelp, addGlobalOptions } from '../lib/settings.js'
import type { LoginOptions } from './session-actions.js'

/** `login`, `logout`, `whoami`. */
export function addSessionCommands(program: Command, io: CliIo): void {
  addExitCodesHelp(addGlobalOptions(program.command('login')))
    .description('sign in to the OIDC issuer and cache the ID token and refresh token (mode 0600)')
    .option('--device', 'device authorization flow: open a URL on any device and enter a code (default)')
    .option('--browser', 'authorization code + PKCE: sign in with a browser on this machine (loopback redirect to 127.0.0.1)')
    .option('--scope <scope>', 'scope to request (default: openid mqtt offline_access)')
    .option('--no-qr', 'do not print a QR code (device flow)')
    .option('--no-open', 'do not try to open a browser (browser flow): print the URL only')
    .option('--json', 'on success, print who signed in as JSON: {issuer, subject, username, clientid, expiresAt} (epoch seconds)')
    .addHelpText('after', '\nWith --browser the browser must run on this machine (it is sent back to http://127.0.0.1:<port>/callback); on a headless gateway use --device.')
    .action(async (opts: LoginOptions, cmd: Command) => {
      if (opts.browser && opts.device) throw new CliError('give either --device or --browser, not both')
      await (await import('./session-actions.js')).login(io, opts, cmd)
    })

  addGlobalOptions(program.command('logout'))
    .description('forget the cached login (and revoke its refresh token at the issuer when possible)')
    .option('--json', 'print {issuer, loggedOut} (loggedOut false: there was no login to forget)')
    .action(async (opts: { json?: boolean }, cmd: Command) => {
      await (await import('./session-actions.js')).logout(io, opts, cmd)
    })

  addExitCodesHelp(addGlobalOptions(program.command('whoami')))
    .description('show who is logged in: the ID token claims and its expiry (never the token)')
    .option('--json', 'print the claims as JSON')
    .action(async (opts: { json?: boolean }, cmd: Command) => {
      await (await import('./session-actions.js')).whoami(io, opts, cmd)
    })
}
