import type { Command } from 'commander'
import { writeJson, writeLine, type CliIo } from '../lib/cli-io.js'
import { idpAdminFor } from '../lib/idp-admin-for.js'
import { addLeadOption, readLead } from '../lib/lead-option.js'
import { addRemovedStoreOption } from '../lib/removed-store-option.js'
import { addGlobalOptions } from '../lib/settings.js'

const HELP = `
Works on the IdP's signing keys through its admin API (/admin/keys), as the admin client found in
<data-dir>/admin-client.json (env MQTT_OIDC_DATA_DIR, default ./.data).
Every running IdP instance picks key changes up within a minute, without a restart. A rotation publishes the new keys
at once and signs with them after --lead (default 10m); retired keys stay in the JWKS until tokens they signed have expired.`

/** `idp keys list|rotate`: the IdP's signing keys, over its admin API. */
export function addIdpKeysCommands(program: Command, io: CliIo): void {
  const keys = program.command('idp').description('operate the IdP').command('keys').description('the IdP\'s signing keys (admin)').addHelpText('after', HELP)
  const leaf = (name: string, description: string): Command =>
    addRemovedStoreOption(addGlobalOptions(keys.command(name), { clientId: false })).description(description).addHelpText('after', HELP)

  leaf('list', 'list signing keys (JSON, public information only): createdAt is when a key starts signing, retiredAt when it stops')
    .action(async (_opts: unknown, cmd: Command) => {
      writeJson(io.stdout, await idpAdminFor(cmd, io).listKeys())
    })

  addLeadOption(leaf('rotate', 'add a new key per algorithm, published now and signing after --lead, when the current ones retire (prints {added, retired, activatesAt})'), '10m')
    .action(async (opts: { lead?: number; leadTime?: number }, cmd: Command) => {
      const rotation = await idpAdminFor(cmd, io).rotateKeys({ leadTime: readLead(opts, io) })
      writeJson(io.stdout, rotation)
      writeLine(io.stderr, `The new keys sign from ${new Date(rotation.activatesAt * 1000).toISOString()}; running IdP instances pick them up within a minute.`)
    })
}
