import { setTimeout as sleep } from 'node:timers/promises'
import { NotFound, type Account, type Store } from '@mqtt-oidc/core'

/**
 * Disables (or re-enables) the account `username`. Throws `NotFound` when
 * there is no such account.
 *
 * Disabling cuts every way in at once:
 * - no sign-in, and its sessions, grants and refresh tokens are deleted (a
 *   later re-enable does not revive them);
 * - a cut-off in the store voids every token of the account issued up to
 *   now: exchanges refuse its older ID tokens (every instance reading this
 *   store), and each exchange revokes its live broker credentials, whose
 *   sessions the brokers close within a second or two (the revocation feed).
 *
 * The cut-off is the next whole second (`iat` has one-second resolution,
 * so a token issued in this second is void too). Re-enabling waits for that
 * second if it has not begun (at most one second), so that every token
 * issued afterwards is on the right side of it.
 *
 * @example await setAccountDisabled(store, 'alice', true)
 */
export async function setAccountDisabled(store: Store, username: string, disabled: boolean): Promise<Account> {
  const account = await store.accounts.findByUsername(username)
  if (!account) throw new NotFound(`no account ${JSON.stringify(username)}`)
  if (!disabled) {
    const cutoff = await store.cutoffs.get(account.id)
    const wait = cutoff ? cutoff.notBefore * 1000 - Date.now() : 0
    if (wait > 0) await sleep(wait)
    return store.accounts.update(account.id, { disabled: false })
  }
  const updated = await store.accounts.update(account.id, { disabled: true })
  await store.cutoffs.set(account.id, Math.floor(Date.now() / 1000) + 1)
  await store.oidc.destroyByAccount(account.id)
  return updated
}
