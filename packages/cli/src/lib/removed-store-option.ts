import { Option, type Command } from 'commander'
import { CliError } from './cli-error.js'

/**
 * `users` and `idp keys` once opened the IdP's database (`--store`,
 * MQTT_OIDC_STORE); they now go through its admin API. The old option is
 * kept, hidden, only to say so instead of commander's "unknown option".
 */
export function addRemovedStoreOption(cmd: Command): Command {
  return cmd.addOption(new Option('--store <url>').hideHelp().argParser(() => {
    throw new CliError('--store is gone: users and idp keys go through the IdP\'s admin API as the admin client in <data-dir>/admin-client.json (--data-dir; --issuer for another IdP URL), never its database')
  }))
}
