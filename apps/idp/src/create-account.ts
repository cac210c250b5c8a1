import { CLIENT_ID_MODES, createId, InvalidRequest, type Account, type ClientIdMode, type Store } from '@mqtt-oidc/core'
import { clientIdProblems } from './lib/client-id-problems.js'
import { explainTakenClientId } from './lib/explain-taken-client-id.js'
import { groupProblems } from './lib/group-problems.js'
import { hashPassword } from './lib/password-hash.js'
import { passwordProblem } from './lib/password-policy.js'

export interface CreateAccountInput {
  /** Login name: 1-64 characters, letters, digits and `. _ @ -`. */
  readonly username: string
  /** At least 8 characters. Stored only as an scrypt hash. */
  readonly password: string
  /**
   * MQTT client ids the account may use; the first is the default. Each must
   * pass core's mqttIdentifierProblem and be held by no other account or
   * subject. Default: one new ULID.
   */
  readonly clientIds?: readonly string[]
  /** Group names (the `groups` claim, which brokers' ACL templates match): 1-256 characters each. Default: none. */
  readonly groups?: readonly string[]
  /**
   * `per-login` (default, for people): each sign-in gets its own client id;
   * `shared` (an admin's choice): every sign-in gets the first one.
   */
  readonly clientIdMode?: ClientIdMode
}

const USERNAME = /^[A-Za-z0-9._@-]{1,64}$/

/**
 * Creates an account with an scrypt password hash and a new account id (the
 * ID token's `sub`). Throws `InvalidRequest` on bad input, `Conflict` when
 * the username is taken and `ClientIdTaken` (saying who holds it) when a
 * client id belongs to someone else; then nothing is created.
 *
 * @example await createAccount(store, { username: 'alice', password: 's3cret-pass', clientIds: ['alice-laptop'] })
 */
export async function createAccount(store: Store, input: CreateAccountInput): Promise<Account> {
  const problems = validateAccountInput(input)
  if (problems.length > 0) throw new InvalidRequest(problems.join('; '))
  const account: Account = {
    id: createId(),
    username: input.username,
    passwordHash: await hashPassword(input.password),
    clientIds: input.clientIds?.length ? [...input.clientIds] : [createId()],
    groups: [...(input.groups ?? [])],
    disabled: false,
    createdAt: Math.floor(Date.now() / 1000),
    clientIdMode: input.clientIdMode ?? 'per-login',
  }
  await store.accounts.create(account).catch(async (err: unknown) => {
    throw await explainTakenClientId(store, err)
  })
  return account
}

function validateAccountInput(input: CreateAccountInput): string[] {
  const problems: string[] = []
  if (!USERNAME.test(input.username)) problems.push('username must be 1-64 letters, digits or . _ @ -')
  const password = passwordProblem(input.password)
  if (password) problems.push(password)
  problems.push(...clientIdProblems(input.clientIds ?? []))
  problems.push(...groupProblems(input.groups ?? []))
  if (input.clientIdMode !== undefined && !CLIENT_ID_MODES.includes(input.clientIdMode))
    problems.push(`client id mode must be one of ${CLIENT_ID_MODES.join(', ')}`)
  return problems
}
