import type { Account, Store } from '@mqtt-oidc/core'
import { verifyAgainstDummy, verifyPasswordHash } from './lib/password-hash.js'

/**
 * Returns the account when `username` exists, is enabled and `password`
 * matches; otherwise `undefined`, without saying which check failed. An
 * unknown username costs the same scrypt work as a wrong password, so timing
 * does not reveal whether an account exists.
 */
export async function verifyAccountPassword(store: Store, username: string, password: string): Promise<Account | undefined> {
  const account = await store.accounts.findByUsername(username)
  if (!account) {
    await verifyAgainstDummy(password)
    return undefined
  }
  const ok = await verifyPasswordHash(password, account.passwordHash)
  return ok && !account.disabled ? account : undefined
}
