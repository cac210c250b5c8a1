import type { Command } from 'commander'
import { writeJson, writeLine, type CliIo } from '../lib/cli-io.js'
import { DEFAULT_KEY_LEAD_SECONDS } from '@mqtt-oidc/jose'
import { addLeadOption, readLead } from '../lib/lead-option.js'
import { addGlobalOptions } from '../lib/settings.js'
import { addStoreOption, idpStoreLocation, withIdpStore } from './open-idp-store.js'

const HELP = `
Works on the IdP's signing keys in its store: --store / env MQTT_OIDC_STORE (postgres://..., shared by every IdP instance),
else the embedded <data-dir>/idp.sqlite (env MQTT_OIDC_DATA_DIR, default ./.data).
Every running IdP instance picks key changes up within a minute, without a restart. A rotation publishes the new keys
at once and signs with them after --lead (default 10m); retired keys stay in the JWKS until tokens they signed have expired.`

/** `idp keys list|rotate`: the IdP's signing keys. */
export function addIdpKeysCommands(program: Command, io: CliIo): void {
  const keys = program.command('idp').description('operate the IdP').command('keys').description('the IdP\'s signing keys').addHelpText('after', HELP)
  const leaf = (name: string, description: string): Command =>
    addStoreOption(addGlobalOptions(keys.command(name), { clientId: false })).description(description).addHelpText('after', HELP)

  leaf('list', 'list signing keys (JSON, public information only): createdAt is when a key starts signing, retiredAt when it stops')
    .action(async (_opts: unknown, cmd: Command) => {
      const records = await withIdpStore(idpStoreLocation(cmd, io), (store) => store.keys.list('idp'))
      writeJson(io.stdout, records.map(({ kid, alg, createdAt, retiredAt }) => ({ kid, alg, createdAt, retiredAt })))
    })

  addLeadOption(leaf('rotate', 'add a new key per algorithm, published now and signing after --lead, when the current ones retire (prints {added, retired, activatesAt})'), '10m')
    .action(async (opts: { lead?: number; leadTime?: number }, cmd: Command) => {
      const leadSeconds = readLead(opts, io) ?? DEFAULT_KEY_LEAD_SECONDS
      const { rotateSigningKeys } = await import('@mqtt-oidc/idp/admin')
      const rotation = await withIdpStore(idpStoreLocation(cmd, io), (store) => rotateSigningKeys(store, { leadSeconds }))
      writeJson(io.stdout, rotation)
      writeLine(io.stderr, `The new keys sign from ${new Date(rotation.activatesAt * 1000).toISOString()}; running IdP instances pick them up within a minute.`)
    })
}

