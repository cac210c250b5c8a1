import type { Store } from '@mqtt-oidc/core'
import type { Account as OidcAccount, FindAccount } from 'oidc-provider'
import type { AccountWithClientIds } from './clientid-selection.js'

/**
 * oidc-provider's `findAccount`: an account that is missing or disabled is
 * not found, which also stops refresh-token use for a disabled account.
 * Claims: `sub` always; with scope `mqtt`, `username` and `clientid` (the
 * client id requested with the `clientid` parameter, else the account's
 * default, its first); with scope `groups`, `groups`.
 */
export function createFindAccount(store: Store): FindAccount {
  return async (_ctx, sub): Promise<(OidcAccount & AccountWithClientIds) | undefined> => {
    const account = await store.accounts.findById(sub)
    if (!account || account.disabled) return undefined
    return {
      accountId: account.id,
      clientIds: account.clientIds,
      async claims(_use, _scope, requested) {
        const wanted = (requested as { clientid?: { value?: unknown } } | undefined)?.clientid?.value
        // A client id requested earlier but since taken from the account yields no
        // clientid at all (the exchange then refuses): never silently another device's.
        const clientid = typeof wanted === 'string' ? account.clientIds.find((id) => id === wanted) : account.clientIds[0]
        return {
          sub: account.id,
          username: account.username,
          groups: [...account.groups],
          ...(clientid === undefined ? {} : { clientid }),
        }
      },
    }
  }
}
