import type { Command } from 'commander'
import { createAdminClient, type AdminClient } from '@mqtt-oidc/client'
import { adminCredentialsFor } from '../lib/admin-credentials-for.js'
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
  const admin = (cmd: Command): AdminClient => createAdminClient({ adminCredentials: adminCredentialsFor(cmd, io), fetchFrom: resolveSettings(cmd, io.env).fetchFrom })

  leaf('list', 'list signing keys (JSON: kid, alg, signsFrom, retiredAt, published)').action(async (_opts: unknown, cmd: Command) => {
    writeJson(io.stdout, await admin(cmd).listKeys())
  })

  addLeadOption(leaf('rotate', 'publish a new key now; it signs after --lead (prints {kid, alg, activatesAt, retiring})'), 'the exchange\'s, 10m')
    .option('--alg <alg>', 'EdDSA (default), ES256 or RS256')
    .action(async (opts: { alg?: string; lead?: number; leadTime?: number }, cmd: Command) => {
      const alg = opts.alg
      if (alg !== undefined && alg !== 'EdDSA' && alg !== 'ES256' && alg !== 'RS256') throw new CliError('--alg must be EdDSA, ES256 or RS256')
      const leadTime = readLead(opts, io)
      const result = await admin(cmd).rotateKey({ alg, leadTime })
      writeJson(io.stdout, result)
      writeLine(io.stderr, `Key ${result.kid} is published now and signs from ${new Date(result.activatesAt * 1000).toISOString()}.`)
    })
}
