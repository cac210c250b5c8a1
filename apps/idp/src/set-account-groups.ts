import { InvalidRequest, NotFound, type Account, type Store } from '@mqtt-oidc/core'
import { groupProblems } from './lib/group-problems.js'

/**
 * Replaces the groups of the account `username` (its ID tokens' `groups`
 * claim from the next sign-in or refresh; an empty list removes them all).
 * Throws `InvalidRequest` on a bad name or a repeat, `NotFound` when there
 * is no such account; then nothing changes.
 *
 * @example await setAccountGroups(store, 'alice', ['ops', 'plant-7'])
 */
export async function setAccountGroups(store: Store, username: string, groups: readonly string[]): Promise<Account> {
  const problems = groupProblems(groups)
  if (problems.length > 0) throw new InvalidRequest(problems.join('; '))
  const account = await store.accounts.findByUsername(username)
  if (!account) throw new NotFound(`no account ${JSON.stringify(username)}`)
  return store.accounts.update(account.id, { groups: [...groups] })
}
