import type { Command } from 'commander'
import { InvalidRequest, type Account } from '@mqtt-oidc/core'
import { writeJson, writeLine, type CliIo } from '../lib/cli-io.js'
import { collect, nonEmpty } from '../lib/option-parsers.js'
import { addGlobalOptions } from '../lib/settings.js'
import { addStoreOption, idpStoreLocation, withIdpStore, type IdpStoreLocation } from './open-idp-store.js'
import { readNewPassword } from './read-new-password.js'

const HELP = `
Works on the IdP's accounts in its store: --store / env MQTT_OIDC_STORE (postgres://..., what several IdP instances share),
else the embedded <data-dir>/idp.sqlite (env MQTT_OIDC_DATA_DIR, default ./.data). Changes apply at once.
Passwords are never arguments: they are prompted for at a terminal, or read as the first line of stdin.`

// Loaded on use: account commands need the IdP's password hashing, other commands do not.
const idpAdmin = () => import('@mqtt-oidc/idp/admin')

/** What `users` prints about an account: everything but the password hash. */
function publicAccount(account: Account): Omit<Account, 'passwordHash'> {
  const { passwordHash: _hash, ...rest } = account
  return rest
}

/** `users add|list|set|conflicts|disable|enable|passwd`: accounts of the embedded IdP. */
export function addUsersCommands(program: Command, io: CliIo): void {
  const users = program.command('users').description('manage the IdP\'s accounts').addHelpText('after', HELP)
  const leaf = (name: string, description: string): Command =>
    addStoreOption(addGlobalOptions(users.command(name), { clientId: false })).description(description).addHelpText('after', HELP)
  const storeOf = (cmd: Command): IdpStoreLocation => idpStoreLocation(cmd, io)

  leaf('add', 'create an account (prints it as JSON)')
    .argument('<name>', 'username')
    .option('--client-id <id>', 'an MQTT client id the account may use; repeatable, the first is the default (default: one generated)', collect(nonEmpty))
    .option('--group <group>', 'a group (the `groups` claim); repeatable', collect(nonEmpty))
    .option('--shared-client-id', 'every sign-in gets the first client id (a gateway); default: each sign-in (device) gets its own')
    .action(async (name: string, opts: { clientId?: string[]; group?: string[]; sharedClientId?: boolean }, cmd: Command) => {
      const { createAccount } = await idpAdmin()
      const password = await readNewPassword(io, name)
      const clientIdMode = opts.sharedClientId ? 'shared' : 'per-login'
      const account = await withIdpStore(storeOf(cmd), (store) => createAccount(store, { username: name, password, clientIds: opts.clientId, groups: opts.group, clientIdMode }))
      writeJson(io.stdout, publicAccount(account))
    })

  leaf('list', 'list accounts (JSON)').action(async (_opts: unknown, cmd: Command) => {
    const accounts = await withIdpStore(storeOf(cmd), (store) => store.accounts.list())
    writeJson(io.stdout, accounts.map(publicAccount))
  })

  leaf('disable', 'disable an account: no sign-in, and its refresh tokens stop working')
    .argument('<name>', 'username')
    .action(async (name: string, _opts: unknown, cmd: Command) => {
      const { setAccountDisabled } = await idpAdmin()
      await withIdpStore(storeOf(cmd), (store) => setAccountDisabled(store, name, true))
      writeLine(io.stderr, `Disabled ${name}.`)
    })

  leaf('enable', 'enable a disabled account again')
    .argument('<name>', 'username')
    .action(async (name: string, _opts: unknown, cmd: Command) => {
      const { setAccountDisabled } = await idpAdmin()
      await withIdpStore(storeOf(cmd), (store) => setAccountDisabled(store, name, false))
      writeLine(io.stderr, `Enabled ${name}.`)
    })

  leaf('set', 'change an account\'s settings (prints it as JSON)')
    .argument('<name>', 'username')
    .option('--client-id <id>', 'replace the account\'s MQTT client ids (repeatable, the first is the default); an id another account or subject holds is refused', collect(nonEmpty))
    .option('--shared-client-id', 'every sign-in gets the account\'s first client id (a gateway)')
    .option('--per-login-client-id', 'each sign-in (device) gets its own client id: one not held by another sign-in, else <first>-<random>')
    .action(async (name: string, opts: { clientId?: string[]; sharedClientId?: boolean; perLoginClientId?: boolean }, cmd: Command) => {
      const mode = opts.sharedClientId ? 'shared' : opts.perLoginClientId ? 'per-login' : undefined
      if (opts.sharedClientId && opts.perLoginClientId) throw new InvalidRequest('give at most one of --shared-client-id, --per-login-client-id')
      if (mode === undefined && opts.clientId === undefined) throw new InvalidRequest('give --client-id, --shared-client-id or --per-login-client-id')
      const { setAccountClientIdMode, setAccountClientIds } = await idpAdmin()
      const account = await withIdpStore(storeOf(cmd), async (store) => {
        const changed = opts.clientId === undefined ? undefined : await setAccountClientIds(store, name, opts.clientId)
        return mode === undefined ? changed : setAccountClientIdMode(store, name, mode)
      })
      writeJson(io.stdout, publicAccount(account!))
    })

  leaf('conflicts', 'client ids several accounts listed before each id had one owner (JSON); nobody gets them until `users set` takes them from all but one')
    .action(async (_opts: unknown, cmd: Command) => {
      const { listClientIdConflicts } = await idpAdmin()
      writeJson(io.stdout, await withIdpStore(storeOf(cmd), (store) => listClientIdConflicts(store)))
    })

  leaf('passwd', 'set a new password')
    .argument('<name>', 'username')
    .action(async (name: string, _opts: unknown, cmd: Command) => {
      const { setAccountPassword } = await idpAdmin()
      const password = await readNewPassword(io, name)
      await withIdpStore(storeOf(cmd), (store) => setAccountPassword(store, name, password))
      writeLine(io.stderr, `Password of ${name} changed.`)
    })
}
