import type { Command } from 'commander'
import type { IdpAdminClient } from '@mqtt-oidc/client'
import { writeJson, writeLine, type CliIo } from '../lib/cli-io.js'
import { addLeadOption } from '../lib/lead-option.js'
import { localTime, wantsJson, writeTable } from '../lib/output.js'
import { addRemovedStoreOption } from '../lib/removed-store-option.js'
import { addGlobalOptions } from '../lib/settings.js'
import { writeKeyChanges } from '../lib/write-key-changes.js'

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
      .option('--json', 'JSON output on stdout, epoch seconds (what a pipe or file gets without it)')
  const idpAdmin = async (cmd: Command): Promise<IdpAdminClient> => (await import('../lib/idp-admin-for.js')).idpAdminFor(cmd, io)

  leaf('list', 'list signing keys (public information only): createdAt is when a key starts signing, retiredAt when it stops (a table at a terminal, else JSON)')
    .action(async (opts: { json?: boolean }, cmd: Command) => {
      const list = await (await idpAdmin(cmd)).listKeys()
      if (wantsJson(opts, io)) return writeJson(io.stdout, list)
      writeTable(io.stdout, ['KID', 'ALG', 'SIGNS FROM', 'RETIRED'], list.map((k) => [k.kid, k.alg, localTime(k.createdAt), localTime(k.retiredAt)]))
    })

  addLeadOption(leaf('rotate', 'add a new key per algorithm, published now and signing after --lead, when the current ones retire (a table of the new and retiring keys at a terminal, else {added, retired, activatesAt})'), '10m')
    .action(async (opts: { json?: boolean; lead?: number; leadTime?: number }, cmd: Command) => {
      const { readLead } = await import('../lib/read-lead.js')
      const api = await idpAdmin(cmd)
      const rotation = await api.rotateKeys({ leadTime: readLead(opts, io) })
      if (wantsJson(opts, io)) writeJson(io.stdout, rotation)
      else {
        const keys = new Map((await api.listKeys()).map((k) => [k.kid, k]))
        writeKeyChanges(io, [
          ...rotation.added.map((kid) => ({ kid, alg: keys.get(kid)?.alg, change: 'new' as const, signsFrom: rotation.activatesAt })),
          ...rotation.retired.map((kid) => ({ kid, alg: keys.get(kid)?.alg, change: 'retiring' as const, signsFrom: keys.get(kid)?.createdAt, retires: rotation.activatesAt })),
        ])
      }
      writeLine(io.stderr, `The new keys sign from ${new Date(rotation.activatesAt * 1000).toISOString()}; running IdP instances pick them up within a minute.`)
    })
}
