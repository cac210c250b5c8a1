import type { Command } from 'commander'
import * as oidc from 'openid-client'
import { ADMIN_SCOPE } from '@mqtt-oidc/core'
import { discoverIssuer } from '../../discover-issuer.js'
import { AdminApiError } from '../../errors.js'
import { readAdminCredentials } from '../../lib/read-admin-credentials.js'
import { readOAuthError } from '../../lib/read-oauth-error.js'
import { exchangeBase } from '../../lib/exchange-base.js'
import { endpointUrl } from '../../lib/urls.js'
import { writeJson, writeLine, type CliIo } from '../lib/cli-io.js'
import { CliError } from '../lib/cli-error.js'
import { addLeadOption, readLead } from '../lib/lead-option.js'
import { addGlobalOptions, resolveSettings } from '../lib/settings.js'

const HELP = `
Works on the exchange's broker-token signing keys through its admin API (as the admin client in
<data-dir>/admin-client.json). The new key is in the JWKS at once and signs after --lead;
the old key stays in the JWKS until the last token it signed has expired.`

/** `keys list|rotate`: the exchange's signing keys (admin API). */
export function addExchangeKeysCommands(program: Command, io: CliIo): void {
  const keys = program.command('keys').description("the exchange's broker-token signing keys (admin)").addHelpText('after', HELP)
  const leaf = (name: string, description: string): Command =>
    addGlobalOptions(keys.command(name), { clientId: false }).description(description).addHelpText('after', HELP)

  leaf('list', 'list signing keys (JSON: kid, alg, signsFrom, retiredAt, published)').action(async (_opts: unknown, cmd: Command) => {
    writeJson(io.stdout, await adminCall(cmd, io, 'GET', '/admin/keys'))
  })

  addLeadOption(leaf('rotate', 'publish a new key now; it signs after --lead (prints {kid, alg, activatesAt, retiring})'), 'the exchange\'s, 10m')
    .option('--alg <alg>', 'EdDSA (default), ES256 or RS256')
    .action(async (opts: { alg?: string; lead?: number; leadTime?: number }, cmd: Command) => {
      if (opts.alg !== undefined && !['EdDSA', 'ES256', 'RS256'].includes(opts.alg)) throw new CliError('--alg must be EdDSA, ES256 or RS256')
      const leadTime = readLead(opts, io)
      const result = await adminCall(cmd, io, 'POST', '/admin/keys/rotate', { alg: opts.alg, leadTime }) as { kid: string; activatesAt: number }
      writeJson(io.stdout, result)
      writeLine(io.stderr, `Key ${result.kid} is published now and signs from ${new Date(result.activatesAt * 1000).toISOString()}.`)
    })
}

async function adminCall(cmd: Command, io: CliIo, method: string, path: string, body?: unknown): Promise<unknown> {
  const s = resolveSettings(cmd, io.env)
  const creds = readAdminCredentials(s.dataDir)
  const issuer = s.explicit.issuer ? s.issuer : creds.issuer
  const exchange = s.explicit.exchangeUrl ? s.exchangeUrl : creds.exchange
  const config = await discoverIssuer(issuer, creds.clientId, { clientSecret: creds.clientSecret, fetchFrom: s.fetchFrom.issuer })
  const grant = await oidc.clientCredentialsGrant(config, { scope: ADMIN_SCOPE, resource: exchange })
  const res = await fetch(endpointUrl(exchangeBase(exchange, s.fetchFrom.exchange), path), {
    method,
    redirect: 'error',
    headers: { authorization: `Bearer ${grant.access_token}`, accept: 'application/json', ...(body ? { 'content-type': 'application/json' } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  })
  if (!res.ok) throw new AdminApiError(await readOAuthError(res))
  return res.json()
}
