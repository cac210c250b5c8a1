import { Router, type Request, type Response } from 'express'
import type { Logger } from 'pino'
import { z } from 'zod'
import { accountView, CLIENT_ID_MODES, InvalidRequest, NotFound, type Account, type Store } from '@mqtt-oidc/core'
import { createAccount } from '../create-account.js'
import { listClientIdConflicts } from '../list-client-id-conflicts.js'
import { setAccountClientIdMode } from '../set-account-client-id-mode.js'
import { setAccountClientIds } from '../set-account-client-ids.js'
import { setAccountDisabled } from '../set-account-disabled.js'
import { setAccountGroups } from '../set-account-groups.js'
import { setAccountPassword } from '../set-account-password.js'
import { clientIdProblems } from './client-id-problems.js'
import { groupProblems } from './group-problems.js'
import { parseAdminBody } from './parse-admin-body.js'
import { idpAdminName } from './require-idp-admin.js'

export interface AdminAccountsDeps {
  readonly store: Store
  readonly logger: Logger
}

const names = (what: string) => z.array(z.string({ error: `${what} must be strings` }), { error: `${what} must be a list of strings` })
const mode = z.enum(CLIENT_ID_MODES as ['per-login', 'shared'], { error: `clientIdMode must be one of ${CLIENT_ID_MODES.join(', ')}` })
const password = z.string({ error: 'password must be a string' })

const createSchema = z
  .object({
    username: z.string({ error: 'username must be a string' }),
    password,
    clientIds: names('clientIds').optional(),
    groups: names('groups').optional(),
    clientIdMode: mode.optional(),
  })
  .strict()

const updateSchema = z
  .object({
    clientIds: names('clientIds').optional(),
    groups: names('groups').optional(),
    clientIdMode: mode.optional(),
    disabled: z.boolean({ error: 'disabled must be true or false' }).optional(),
  })
  .strict()

const passwordSchema = z.object({ password }).strict()

/**
 * /admin/accounts: the IdP's accounts, for operators (the CLI's `users`
 * commands) anywhere the IdP is reachable, instead of opening its database.
 * Every instance sharing the store sees a change at once. Passwords travel
 * in request bodies only, never in a URL or a log line; no answer carries a
 * password hash.
 *
 *   GET    /admin/accounts                       list
 *   POST   /admin/accounts                       create {username, password, clientIds?, groups?, clientIdMode?} (201)
 *   GET    /admin/accounts/:username             one account
 *   PATCH  /admin/accounts/:username             change {clientIds?, groups?, clientIdMode?, disabled?}
 *   PUT    /admin/accounts/:username/password    set a new password {password} (204)
 *   GET    /admin/client-id-conflicts            client ids several accounts listed before ids had one owner
 *
 * `disabled: true` cuts every way in (setAccountDisabled): sign-ins end, the
 * exchanges refuse the account's older ID tokens and revoke its live broker
 * credentials, whose sessions the brokers close.
 */
export function adminAccountsRoutes(deps: AdminAccountsDeps): Router {
  const router = Router()
  const { store } = deps
  const audit = (res: Response, action: string, username: string, fields: Record<string, unknown> = {}): void => {
    deps.logger.info({ audit: true, who: idpAdminName(res), action, username, ...fields }, `admin: ${action}`)
  }
  const existing = async (username: string): Promise<Account> => {
    const account = await store.accounts.findByUsername(username)
    if (!account) throw new NotFound(`no account ${JSON.stringify(username.slice(0, 128))}`)
    return account
  }

  router.get('/accounts', async (_req: Request, res: Response) => {
    res.set('Cache-Control', 'no-store').json((await store.accounts.list()).map(accountView))
  })

  router.post('/accounts', async (req: Request, res: Response) => {
    const input = parseAdminBody(createSchema, req.body)
    const account = await createAccount(store, input)
    audit(res, 'account created', account.username, { client_ids: account.clientIds, groups: account.groups, client_id_mode: account.clientIdMode })
    res
      .status(201)
      .location(`/admin/accounts/${encodeURIComponent(account.username)}`)
      .set('Cache-Control', 'no-store')
      .json(accountView(account))
  })

  router.get('/accounts/:username', async (req: Request<{ username: string }>, res: Response) => {
    res.set('Cache-Control', 'no-store').json(accountView(await existing(req.params.username)))
  })

  router.patch('/accounts/:username', async (req: Request<{ username: string }>, res: Response) => {
    const input = parseAdminBody(updateSchema, req.body)
    if (Object.keys(input).length === 0) throw new InvalidRequest('nothing to change: give clientIds, groups, clientIdMode or disabled')
    const { username } = await existing(req.params.username)
    // Every field is checked before anything changes; then client ids go first, the one change the store may still refuse (taken).
    const problems = [
      ...(input.clientIds === undefined ? [] : input.clientIds.length === 0 ? ['an account needs at least one client id'] : clientIdProblems(input.clientIds)),
      ...groupProblems(input.groups ?? []),
    ]
    if (problems.length > 0) throw new InvalidRequest(problems.join('; '))
    if (input.clientIds !== undefined) await setAccountClientIds(store, username, input.clientIds)
    if (input.groups !== undefined) await setAccountGroups(store, username, input.groups)
    if (input.clientIdMode !== undefined) await setAccountClientIdMode(store, username, input.clientIdMode)
    if (input.disabled !== undefined) await setAccountDisabled(store, username, input.disabled)
    const account = await existing(username)
    audit(res, input.disabled === true ? 'account disabled' : input.disabled === false ? 'account enabled' : 'account updated', username, {
      changed: Object.keys(input).sort(),
    })
    res.set('Cache-Control', 'no-store').json(accountView(account))
  })

  router.put('/accounts/:username/password', async (req: Request<{ username: string }>, res: Response) => {
    const input = parseAdminBody(passwordSchema, req.body)
    const { username } = await existing(req.params.username)
    await setAccountPassword(store, username, input.password)
    audit(res, 'account password set', username)
    res.status(204).end()
  })

  router.get('/client-id-conflicts', async (_req: Request, res: Response) => {
    res.set('Cache-Control', 'no-store').json(await listClientIdConflicts(store))
  })

  return router
}
