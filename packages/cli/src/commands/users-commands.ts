import type { Command } from 'commander'
import type { AccountView } from '@mqtt-oidc/core'
import type { IdpAdminClient } from '@mqtt-oidc/client'
import { CliError } from '../lib/cli-error.js'
import { writeJson, writeLine, type CliIo } from '../lib/cli-io.js'
import { confirm } from '../lib/confirm.js'
import { collect, nonEmpty } from '../lib/option-parsers.js'
import { localTime, wantsJson, writeTable } from '../lib/output.js'
import { addRemovedStoreOption } from '../lib/removed-store-option.js'
import { addGlobalOptions } from '../lib/settings.js'
import { readNewPassword } from './read-new-password.js'

const HELP = `
Works on the IdP's accounts through its admin API (/admin/accounts), as the admin client found in
<data-dir>/admin-client.json (env MQTT_OIDC_DATA_DIR, default ./.data); --issuer (or its env var)
overrides the IdP URL in it. Changes apply at once on every IdP instance.
Passwords are never arguments: they are prompted for at a terminal, or read as the first line of stdin,
and sent in the request body only.`

/** `users add|list|show|set|conflicts|disable|delete|enable|passwd`: the IdP's accounts, over its admin API. */
export function addUsersCommands(program: Command, io: CliIo): void {
  const users = program.command('users').description('manage the IdP\'s accounts (admin)').addHelpText('after', HELP)
  const leaf = (name: string, description: string): Command =>
    addRemovedStoreOption(addGlobalOptions(users.command(name), { clientId: false })).description(description).addHelpText('after', HELP)
      .option('--json', 'JSON output on stdout, epoch seconds (what a pipe or file gets without it); disable, enable and passwd print {"username", ...}')
  // Loaded when a command runs, never for --help (see admin-client-for.ts).
  const idpAdminFor = async (cmd: Command): Promise<IdpAdminClient> => (await import('../lib/idp-admin-for.js')).idpAdminFor(cmd, io)
  /** An account: JSON in a pipe or with --json, else one `field  value` line each. */
  const printAccount = (account: AccountView, opts: { json?: boolean }): void => {
    if (wantsJson(opts, io)) return writeJson(io.stdout, account)
    writeTable(io.stdout, ['FIELD', 'VALUE'], [
      ['username', account.username], ['id', account.id], ['client ids', account.clientIds.join(', ')], ['client id mode', account.clientIdMode],
      ['groups', account.groups.join(', ')], ['disabled', account.disabled ? 'yes' : 'no'], ['created', localTime(account.createdAt)],
    ])
  }
  /** What a command without a result did: a sentence on stderr, or `{username, ...}` on stdout with --json. */
  const done = (opts: { json?: boolean }, text: string, json: Record<string, unknown>): void => {
    if (opts.json) writeJson(io.stdout, json)
    else writeLine(io.stderr, text)
  }

  leaf('add', 'create an account (prints it)')
    .argument('<name>', 'username')
    .option('--client-id <id>', 'an MQTT client id the account may use; repeatable, the first is the default (default: one generated)', collect(nonEmpty))
    .option('--group <group>', 'a group (the `groups` claim); repeatable', collect(nonEmpty))
    .option('--shared-client-id', 'every sign-in gets the first client id (a gateway); default: each sign-in (device) gets its own')
    .action(async (name: string, opts: { clientId?: string[]; group?: string[]; sharedClientId?: boolean; json?: boolean }, cmd: Command) => {
      const idp = await idpAdminFor(cmd)
      const password = await readNewPassword(io, name)
      const clientIdMode = opts.sharedClientId ? 'shared' : 'per-login'
      printAccount(await idp.createAccount({ username: name, password, clientIds: opts.clientId, groups: opts.group, clientIdMode }), opts)
    })

  leaf('list', 'list accounts (a table at a terminal, else JSON)').action(async (opts: { json?: boolean }, cmd: Command) => {
    const accounts = await (await idpAdminFor(cmd)).listAccounts()
    if (wantsJson(opts, io)) return writeJson(io.stdout, accounts)
    writeTable(io.stdout, ['USERNAME', 'CLIENT IDS', 'MODE', 'GROUPS', 'DISABLED', 'CREATED'], accounts.map((a) =>
      [a.username, a.clientIds.join(','), a.clientIdMode, a.groups.join(','), a.disabled ? 'yes' : 'no', localTime(a.createdAt)]))
  })

  leaf('show', 'one account')
    .argument('<name>', 'username')
    .action(async (name: string, opts: { json?: boolean }, cmd: Command) => {
      printAccount(await (await idpAdminFor(cmd)).getAccount(name), opts)
    })

  leaf('disable', 'disable an account, after asking (--yes when not at a terminal): its sign-ins end, its broker credentials are revoked and its MQTT sessions closed')
    .argument('<name>', 'username')
    .option('-y, --yes', 'do not ask for confirmation (needed when not at a terminal)')
    .action(async (name: string, opts: { json?: boolean; yes?: boolean }, cmd: Command) => {
      const idp = await idpAdminFor(cmd)
      await idp.getAccount(name) // an unknown account is refused before anyone is asked
      await confirm(io, `Disable ${name}? Their sign-ins end and their broker credentials are revoked (enable gives sign-ins back, not those credentials).`, opts, `users disable ${name}`)
      await idp.updateAccount(name, { disabled: true })
      done(opts, `Disabled ${name}.`, { username: name, disabled: true })
    })

  leaf('delete', 'delete an account, after asking (--yes when not at a terminal): its sign-ins end, its broker credentials are revoked, its client ids are free for others')
    .argument('<name>', 'username')
    .option('-y, --yes', 'do not ask for confirmation (needed when not at a terminal)')
    .action(async (name: string, opts: { json?: boolean; yes?: boolean }, cmd: Command) => {
      const idp = await idpAdminFor(cmd)
      const account = await idp.getAccount(name) // an unknown account is refused before anyone is asked
      await confirm(io, `Delete ${name} (client ids ${account.clientIds.join(', ')})? Their sign-ins end and their broker credentials are revoked; this cannot be undone.`, opts, `users delete ${name}`)
      await idp.deleteAccount(name)
      done(opts, `Deleted ${name}; client ids ${account.clientIds.join(', ')} are free.`, { username: name, deleted: true })
    })

  leaf('enable', 'enable a disabled account again')
    .argument('<name>', 'username')
    .action(async (name: string, opts: { json?: boolean }, cmd: Command) => {
      await (await idpAdminFor(cmd)).updateAccount(name, { disabled: false })
      done(opts, `Enabled ${name}.`, { username: name, disabled: false })
    })

  leaf('set', 'change an account\'s client ids, groups or client id mode (prints it)')
    .argument('<name>', 'username')
    .option('--client-id <id>', 'replace the account\'s MQTT client ids (repeatable, the first is the default); an id another account or subject holds is refused', collect(nonEmpty))
    .option('--group <group>', 'replace the account\'s groups (repeatable)', collect(nonEmpty))
    .option('--no-groups', 'remove all of the account\'s groups')
    .option('--shared-client-id', 'every sign-in gets the account\'s first client id (a gateway)')
    .option('--per-login-client-id', 'each sign-in (device) gets its own client id: one not held by another sign-in, else <first>-<random>')
    .action(async (name: string, opts: { clientId?: string[]; group?: string[]; groups?: boolean; sharedClientId?: boolean; perLoginClientId?: boolean; json?: boolean }, cmd: Command) => {
      const clientIdMode = opts.sharedClientId ? 'shared' : opts.perLoginClientId ? 'per-login' : undefined
      if (opts.sharedClientId && opts.perLoginClientId) throw new CliError('give at most one of --shared-client-id, --per-login-client-id')
      if (opts.group !== undefined && opts.groups === false) throw new CliError('give either --group or --no-groups')
      const groups = opts.groups === false ? [] : opts.group
      if (clientIdMode === undefined && opts.clientId === undefined && groups === undefined) {
        throw new CliError('give --client-id, --group, --no-groups, --shared-client-id or --per-login-client-id')
      }
      printAccount(await (await idpAdminFor(cmd)).updateAccount(name, { clientIds: opts.clientId, groups, clientIdMode }), opts)
    })

  leaf('conflicts', 'client ids several accounts listed before each id had one owner; nobody gets them until `users set` takes them from all but one (a table at a terminal, else JSON)')
    .action(async (opts: { json?: boolean }, cmd: Command) => {
      const conflicts = await (await idpAdminFor(cmd)).listClientIdConflicts()
      if (wantsJson(opts, io)) return writeJson(io.stdout, conflicts)
      if (conflicts.length === 0) return writeLine(io.stderr, 'No client id is held by two accounts.')
      writeTable(io.stdout, ['CLIENT ID', 'ACCOUNTS'], conflicts.map((c) => [c.clientId, c.usernames.join(', ')]))
      writeLine(io.stderr, 'Nobody gets these client ids until `users set` takes each from all accounts but one.')
    })

  leaf('passwd', 'set a new password (8-1024 characters)')
    .argument('<name>', 'username')
    .action(async (name: string, opts: { json?: boolean }, cmd: Command) => {
      const idp = await idpAdminFor(cmd)
      const password = await readNewPassword(io, name)
      await idp.setAccountPassword(name, password)
      done(opts, `Password of ${name} changed.`, { username: name, passwordChanged: true })
    })
}
