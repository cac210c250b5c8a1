import type { Command } from 'commander'
import { InvalidRequest } from '@mqtt-oidc/core'
import { writeJson, writeLine, type CliIo } from '../lib/cli-io.js'
import { idpAdminFor } from '../lib/idp-admin-for.js'
import { collect, nonEmpty } from '../lib/option-parsers.js'
import { addRemovedStoreOption } from '../lib/removed-store-option.js'
import { addGlobalOptions } from '../lib/settings.js'
import { readNewPassword } from './read-new-password.js'

const HELP = `
Works on the IdP's accounts through its admin API (/admin/accounts), as the admin client found in
<data-dir>/admin-client.json (env MQTT_OIDC_DATA_DIR, default ./.data); --issuer (or its env var)
overrides the IdP URL in it. Changes apply at once on every IdP instance.
Passwords are never arguments: they are prompted for at a terminal, or read as the first line of stdin,
and sent in the request body only.`

/** `users add|list|show|set|conflicts|disable|enable|passwd`: the IdP's accounts, over its admin API. */
export function addUsersCommands(program: Command, io: CliIo): void {
  const users = program.command('users').description('manage the IdP\'s accounts (admin)').addHelpText('after', HELP)
  const leaf = (name: string, description: string): Command =>
    addRemovedStoreOption(addGlobalOptions(users.command(name), { clientId: false })).description(description).addHelpText('after', HELP)

  leaf('add', 'create an account (prints it as JSON)')
    .argument('<name>', 'username')
    .option('--client-id <id>', 'an MQTT client id the account may use; repeatable, the first is the default (default: one generated)', collect(nonEmpty))
    .option('--group <group>', 'a group (the `groups` claim); repeatable', collect(nonEmpty))
    .option('--shared-client-id', 'every sign-in gets the first client id (a gateway); default: each sign-in (device) gets its own')
    .action(async (name: string, opts: { clientId?: string[]; group?: string[]; sharedClientId?: boolean }, cmd: Command) => {
      const idp = idpAdminFor(cmd, io)
      const password = await readNewPassword(io, name)
      const clientIdMode = opts.sharedClientId ? 'shared' : 'per-login'
      writeJson(io.stdout, await idp.createAccount({ username: name, password, clientIds: opts.clientId, groups: opts.group, clientIdMode }))
    })

  leaf('list', 'list accounts (JSON)').action(async (_opts: unknown, cmd: Command) => {
    writeJson(io.stdout, await idpAdminFor(cmd, io).listAccounts())
  })

  leaf('show', 'one account (JSON)')
    .argument('<name>', 'username')
    .action(async (name: string, _opts: unknown, cmd: Command) => {
      writeJson(io.stdout, await idpAdminFor(cmd, io).getAccount(name))
    })

  leaf('disable', 'disable an account: its sign-ins end, its broker credentials are revoked and its MQTT sessions closed')
    .argument('<name>', 'username')
    .action(async (name: string, _opts: unknown, cmd: Command) => {
      await idpAdminFor(cmd, io).updateAccount(name, { disabled: true })
      writeLine(io.stderr, `Disabled ${name}.`)
    })

  leaf('enable', 'enable a disabled account again')
    .argument('<name>', 'username')
    .action(async (name: string, _opts: unknown, cmd: Command) => {
      await idpAdminFor(cmd, io).updateAccount(name, { disabled: false })
      writeLine(io.stderr, `Enabled ${name}.`)
    })

  leaf('set', 'change an account\'s settings (prints it as JSON)')
    .argument('<name>', 'username')
    .option('--client-id <id>', 'replace the account\'s MQTT client ids (repeatable, the first is the default); an id another account or subject holds is refused', collect(nonEmpty))
    .option('--group <group>', 'replace the account\'s groups (repeatable)', collect(nonEmpty))
    .option('--no-groups', 'remove all of the account\'s groups')
    .option('--shared-client-id', 'every sign-in gets the account\'s first client id (a gateway)')
    .option('--per-login-client-id', 'each sign-in (device) gets its own client id: one not held by another sign-in, else <first>-<random>')
    .action(async (name: string, opts: { clientId?: string[]; group?: string[]; groups?: boolean; sharedClientId?: boolean; perLoginClientId?: boolean }, cmd: Command) => {
      const clientIdMode = opts.sharedClientId ? 'shared' : opts.perLoginClientId ? 'per-login' : undefined
      if (opts.sharedClientId && opts.perLoginClientId) throw new InvalidRequest('give at most one of --shared-client-id, --per-login-client-id')
      if (opts.group !== undefined && opts.groups === false) throw new InvalidRequest('give either --group or --no-groups')
      const groups = opts.groups === false ? [] : opts.group
      if (clientIdMode === undefined && opts.clientId === undefined && groups === undefined) {
        throw new InvalidRequest('give --client-id, --group, --no-groups, --shared-client-id or --per-login-client-id')
      }
      writeJson(io.stdout, await idpAdminFor(cmd, io).updateAccount(name, { clientIds: opts.clientId, groups, clientIdMode }))
    })

  leaf('conflicts', 'client ids several accounts listed before each id had one owner (JSON); nobody gets them until `users set` takes them from all but one')
    .action(async (_opts: unknown, cmd: Command) => {
      writeJson(io.stdout, await idpAdminFor(cmd, io).listClientIdConflicts())
    })

  leaf('passwd', 'set a new password')
    .argument('<name>', 'username')
    .action(async (name: string, _opts: unknown, cmd: Command) => {
      const idp = idpAdminFor(cmd, io)
      const password = await readNewPassword(io, name)
      await idp.setAccountPassword(name, password)
      writeLine(io.stderr, `Password of ${name} changed.`)
    })
}
