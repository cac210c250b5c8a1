import type { Account, Store } from '@mqtt-oidc/core'
import { checkAccountPassword } from './check-account-password.js'

/**
 * Returns the account when `username` exists, is enabled and `password`
 * matches; otherwise `undefined`, without saying which check failed (see
 * checkAccountPassword for the outcome). An unknown username costs the same
 * scrypt work as a wrong password, so timing does not reveal whether an account exists.
 */
export async function verifyAccountPassword(store: Store, username: string, password: string): Promise<Account | undefined> {
  const check = await checkAccountPassword(store, username, password)
  return check.outcome === 'ok' ? check.account : undefined
}
