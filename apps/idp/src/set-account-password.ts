import { InvalidRequest, NotFound, type Account, type Store } from '@mqtt-oidc/core'
import { hashPassword } from './lib/password-hash.js'
import { passwordProblem } from './lib/password-policy.js'

/**
 * Replaces the password of the account `username` (stored as a new scrypt
 * hash). Throws `InvalidRequest` for an unacceptable password and
 * `NotFound` when there is no such account.
 */
export async function setAccountPassword(store: Store, username: string, password: string): Promise<Account> {
  const problem = passwordProblem(password)
  if (problem) throw new InvalidRequest(problem)
  const account = await store.accounts.findByUsername(username)
  if (!account) throw new NotFound(`no account ${JSON.stringify(username)}`)
  return store.accounts.update(account.id, { passwordHash: await hashPassword(password) })
}
