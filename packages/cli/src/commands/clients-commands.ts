import { InvalidArgumentError, Option, type Command } from 'commander'
import type { IdpAdminClient, OAuthClientInput } from '@mqtt-oidc/client'
import { CliError } from '../lib/cli-error.js'
import { confirm } from '../lib/confirm.js'
import { writeJson, writeLine, type CliIo } from '../lib/cli-io.js'
import { collect, nonEmpty, parseDurationSeconds } from '../lib/option-parsers.js'
import { localTime, wantsJson, writeTable } from '../lib/output.js'
import { addGlobalOptions } from '../lib/settings.js'
import { shortGrant, writeOAuthClient } from '../lib/write-oauth-client.js'

const HELP = `
OAuth clients registered at the IdP (other apps that sign people in: a dashboard, Node-RED,
oidc-agent, ...). Changes apply at once on every IdP instance. Admin commands authenticate as the
admin client found in <data-dir>/admin-client.json; --issuer (or its env var) overrides the IdP URL in it.

Native apps (--native) are public clients: the device flow, and the code flow on loopback redirect
URIs, where any port is accepted at sign-in (RFC 8252 §7.3): register http://127.0.0.1/callback,
http://[::1]/callback or http://localhost (oidc-agent). Web apps (--web, the default) are
confidential: their secret is printed once, when it is made; the IdP keeps only its hash.
Tokens a registered client gets are exchanged for broker tokens once the exchange accepts the
client id (MQTT_OIDC_EXCHANGE_IDP_CLIENT_IDS).`

/** Short names for the grant types: `code`, `device`, `refresh`. */
const GRANT_ALIASES: Readonly<Record<string, string>> = {
  code: 'authorization_code',
  authorization_code: 'authorization_code',
  device: 'urn:ietf:params:oauth:grant-type:device_code',
  'urn:ietf:params:oauth:grant-type:device_code': 'urn:ietf:params:oauth:grant-type:device_code',
  refresh: 'refresh_token',
  refresh_token: 'refresh_token',
}

function parseGrantType(value: string): string {
  const grant = GRANT_ALIASES[value]
  if (grant === undefined) throw new InvalidArgumentError('use code, device or refresh (or authorization_code, urn:ietf:params:oauth:grant-type:device_code, refresh_token).')
  return grant
}

interface ClientOptions {
  name?: string
  native?: boolean
  web?: boolean
  redirectUri?: string[]
  postLogoutRedirectUri?: string[]
  grantType?: string[]
  scope?: string
  authMethod?: 'none' | 'client_secret_basic' | 'client_secret_post'
  idTokenAlg?: 'RS256' | 'ES256' | 'EdDSA'
  json?: boolean
}

/** `clients add|list|show|update|remove`: the IdP's admin API for OAuth clients. */
export function addClientsCommands(program: Command, io: CliIo): void {
  const clients = program.command('clients').description('manage the OAuth clients registered at the IdP (admin)').addHelpText('after', HELP)
  // Like `broker ...`: a table or field lines at a terminal, JSON with --json or into a pipe; remove says what it did on
  // stderr unless JSON is asked for.
  const leaf = (name: string, description: string): Command =>
    addGlobalOptions(clients.command(name), { clientId: false }).description(description).addHelpText('after', HELP)
      .option('--json', 'JSON output on stdout, epoch seconds (what a pipe or file gets without it); remove prints {"client_id","removed"}')
  const admin = async (cmd: Command): Promise<IdpAdminClient> => (await import('../lib/idp-admin-for.js')).idpAdminFor(cmd, io)
  const showSecretOnce = (secret: string | undefined): void => {
    if (secret !== undefined) writeLine(io.stderr, 'client_secret is shown only this once: store it now (the IdP keeps only its hash).')
  }

  addClientOptions(leaf('add', 'register a client and print it, with client_secret for a confidential one')
    .argument('[client-id]', 'its client_id (letters, digits, . _ ~ -); default: one made up')
    .option('--native', 'a native app: public, device flow (+ code flow with loopback redirect URIs)')
    .option('--web', 'a web app: confidential, code flow (the default)'))
    .action(async (clientId: string | undefined, opts: ClientOptions, cmd: Command) => {
      if (opts.native && opts.web) throw new CliError('give either --native or --web, not both')
      const created = await (await admin(cmd)).createClient({ client_id: clientId, ...inputFrom(opts), application_type: opts.native ? 'native' : 'web' })
      writeOAuthClient(io, created, opts)
      showSecretOnce(created.client_secret)
    })

  leaf('list', 'list the clients, built-in ones included (a table at a terminal, else JSON)').action(async (opts: { json?: boolean }, cmd: Command) => {
    const list = await (await admin(cmd)).listClients()
    if (wantsJson(opts, io)) return writeJson(io.stdout, list)
    writeTable(io.stdout, ['CLIENT ID', 'NAME', 'TYPE', 'AUTH', 'GRANTS', 'BUILT IN', 'CREATED'], list.map((c) => [
      c.client_id, c.client_name, c.application_type, c.token_endpoint_auth_method, c.grant_types.map(shortGrant).join(','), c.built_in ? 'yes' : 'no', localTime(c.created_at),
    ]))
  })

  leaf('show', 'one client (one line per field at a terminal, else JSON)')
    .argument('<client-id>', 'its client_id', nonEmpty)
    .action(async (clientId: string, opts: { json?: boolean }, cmd: Command) => {
      writeOAuthClient(io, await (await admin(cmd)).getClient(clientId), opts)
    })

  addClientOptions(leaf('update', 'change a client: only the fields given change (lists are replaced); prints it')
    .argument('<client-id>', 'its client_id', nonEmpty)
    .addOption(new Option('--native', 'make it a native app (public)').conflicts('web'))
    .option('--web', 'make it a web app')
    .option('--rotate-secret', 'give a confidential client a new secret, after asking (--yes when not at a terminal): printed once; the old one stops working at once')
    .option('-y, --yes', 'do not ask before --rotate-secret (needed when not at a terminal)'))
    .action(async (clientId: string, opts: ClientOptions & { rotateSecret?: boolean; yes?: boolean }, cmd: Command) => {
      const input: OAuthClientInput = { ...inputFrom(opts), ...(opts.native ? { application_type: 'native' } : opts.web ? { application_type: 'web' } : {}) }
      const changes = Object.values(input).some((v) => v !== undefined)
      if (!changes && !opts.rotateSecret) throw new CliError('nothing to update: give --name, --redirect-uri, --grant-type, --scope, --auth-method, --id-token-alg, --native/--web or --rotate-secret (see --help)')
      const api = await admin(cmd)
      if (opts.rotateSecret) {
        await api.getClient(clientId) // an unknown client is refused before anyone is asked
        await confirm(io, `Give ${clientId} a new secret? Its current secret stops working at once.`, opts, `clients update ${clientId} --rotate-secret`)
      }
      const updated = changes ? await api.updateClient(clientId, input) : undefined
      const rotated = opts.rotateSecret ? await api.rotateClientSecret(clientId) : undefined
      const secret = rotated?.client_secret ?? updated?.client_secret
      writeOAuthClient(io, { ...(updated ?? await api.getClient(clientId)), ...(secret === undefined ? {} : { client_secret: secret }) }, opts)
      showSecretOnce(secret)
    })

  leaf('registration-token', 'an RFC 7591 initial access token (printed once) for apps that register themselves (IdP with MQTT_OIDC_IDP_DYNAMIC_REGISTRATION=true)')
    .option('--expiration <duration>', 'how long it may be used: 10m, 1h, 7d, or seconds (default 1h)', parseDurationSeconds)
    .action(async (opts: { expiration?: number; json?: boolean }, cmd: Command) => {
      const made = await (await admin(cmd)).createRegistrationToken({ expiresIn: opts.expiration })
      if (wantsJson(opts, io)) return writeJson(io.stdout, made)
      writeTable(io.stdout, ['FIELD', 'VALUE'], [
        ['expires', localTime(Math.floor(Date.now() / 1000) + made.expires_in)],
        ['token', made.initial_access_token],
      ])
      writeLine(io.stderr, 'The token is shown only this once: an app registers itself with it (RFC 7591), e.g. oidc-gen --at <token>.')
    })

  leaf('remove', 'remove a client, after asking (--yes when not at a terminal): its sign-ins and refreshes are refused from now on')
    .argument('<client-id>', 'its client_id', nonEmpty)
    .option('-y, --yes', 'do not ask for confirmation (needed when not at a terminal)')
    .action(async (clientId: string, opts: { json?: boolean; yes?: boolean }, cmd: Command) => {
      const api = await admin(cmd)
      await api.getClient(clientId) // an unknown client is refused before anyone is asked
      await confirm(io, `Remove client ${clientId}? Its sign-ins and refreshes are refused from now on.`, opts, `clients remove ${clientId}`)
      await api.deleteClient(clientId)
      if (opts.json) writeJson(io.stdout, { client_id: clientId, removed: true })
      else writeLine(io.stderr, `Removed client ${clientId}.`)
    })
}

function addClientOptions(cmd: Command): Command {
  return cmd
    .option('--name <name>', 'client_name, shown on the consent page', nonEmpty)
    .option('--redirect-uri <uri>', 'a redirect URI (repeatable)', collect(nonEmpty))
    .option('--post-logout-redirect-uri <uri>', 'where to return after sign-out (repeatable)', collect(nonEmpty))
    .option('--grant-type <grant>', 'code, device or refresh (repeatable; default by app type)', collect(parseGrantType))
    .option('--scope <scopes>', 'space-separated scopes it may ask for (default: openid offline_access mqtt groups)', nonEmpty)
    .addOption(new Option('--auth-method <method>', 'how it authenticates (default: none for native apps, client_secret_basic for web apps)')
      .choices(['none', 'client_secret_basic', 'client_secret_post']))
    .addOption(new Option('--id-token-alg <alg>', 'how its ID tokens are signed (default RS256)').choices(['RS256', 'ES256', 'EdDSA']))
}

function inputFrom(opts: ClientOptions): OAuthClientInput {
  return {
    client_name: opts.name,
    redirect_uris: opts.redirectUri,
    post_logout_redirect_uris: opts.postLogoutRedirectUri,
    grant_types: opts.grantType === undefined ? undefined : [...new Set(opts.grantType)],
    scope: opts.scope,
    token_endpoint_auth_method: opts.authMethod,
    id_token_signed_response_alg: opts.idTokenAlg,
  }
}
