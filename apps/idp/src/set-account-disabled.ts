import { NotFound, type Account, type Store } from '@mqtt-oidc/core'

/**
 * Disables (or re-enables) the account `username`. A disabled account cannot
 * sign in, and its refresh tokens stop working at their next use (the IdP's
 * findAccount does not find it). Throws `NotFound` when there is no such account.
 */
export async function setAccountDisabled(store: Store, username: string, disabled: boolean): Promise<Account> {
  const account = await store.accounts.findByUsername(username)
  if (!account) throw new NotFound(`no account ${JSON.stringify(username)}`)
  return store.accounts.update(account.id, { disabled })
}
