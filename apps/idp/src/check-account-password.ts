import type { Account, Store } from '@mqtt-oidc/core'
import { verifyAgainstDummy, verifyPasswordHash } from './lib/password-hash.js'

/**
 * The outcome of a password check: `ok`, `wrong` (unknown username or wrong
 * password, never told apart), or `disabled` (the right password of a
 * disabled account: only someone who knows the password learns it is disabled).
 */
export type PasswordCheck =
  { readonly outcome: 'ok'; readonly account: Account } | { readonly outcome: 'disabled'; readonly account: Account } | { readonly outcome: 'wrong' }

/**
 * Checks `password` for `username`. An unknown username costs the same scrypt
 * work as a wrong password, so timing does not reveal whether an account exists.
 */
export async function checkAccountPassword(store: Store, username: string, password: string): Promise<PasswordCheck> {
  const account = await store.accounts.findByUsername(username)
  if (!account) {
    await verifyAgainstDummy(password)
    return { outcome: 'wrong' }
  }
  if (!(await verifyPasswordHash(password, account.passwordHash))) return { outcome: 'wrong' }
  return account.disabled ? { outcome: 'disabled', account } : { outcome: 'ok', account }
}
