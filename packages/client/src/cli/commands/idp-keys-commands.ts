import type { Command } from 'commander'
import { writeJson, writeLine, type CliIo } from '../lib/cli-io.js'
import { addGlobalOptions, resolveSettings } from '../lib/settings.js'
import { withIdpStore } from './open-idp-store.js'

const HELP = `
Works on the embedded IdP's signing keys in <data-dir>/idp.sqlite (env MQTT_OIDC_DATA_DIR, default ./.data).
The IdP signs with new keys from its next start; retired keys stay in its JWKS until tokens they signed have expired.`

/** `idp keys list|rotate`: the embedded IdP's signing keys. */
export function addIdpKeysCommands(program: Command, io: CliIo): void {
  const keys = program.command('idp').description('operate the embedded IdP').command('keys').description('the IdP\'s signing keys').addHelpText('after', HELP)
  const leaf = (name: string, description: string): Command =>
    addGlobalOptions(keys.command(name), { clientId: false }).description(description).addHelpText('after', HELP)
  const dataDir = (cmd: Command): string => resolveSettings(cmd, io.env).dataDir

  leaf('list', 'list signing keys (JSON, public information only)').action(async (_opts: unknown, cmd: Command) => {
    const records = await withIdpStore(dataDir(cmd), (store) => store.keys.list('idp'))
    writeJson(io.stdout, records.map(({ kid, alg, createdAt, retiredAt }) => ({ kid, alg, createdAt, retiredAt })))
  })

  leaf('rotate', 'add a new key per algorithm and retire the current ones (prints {added, retired})').action(async (_opts: unknown, cmd: Command) => {
    const { rotateSigningKeys } = await import('@mqtt-oidc/idp/admin')
    writeJson(io.stdout, await withIdpStore(dataDir(cmd), (store) => rotateSigningKeys(store)))
    writeLine(io.stderr, 'Restart the IdP to sign with the new keys.')
  })
}
