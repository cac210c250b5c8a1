import type { Store } from '@mqtt-oidc/core'
import type { Account as OidcAccount, FindAccount } from 'oidc-provider'

/**
 * oidc-provider's `findAccount`: an account that is missing or disabled is
 * not found, which also stops refresh-token use for a disabled account.
 * Claims: `sub` always; `clientid` (the account's default MQTT client id)
 * and `username` with scope `mqtt`.
 */
export function createFindAccount(store: Store): FindAccount {
  return async (_ctx, sub): Promise<OidcAccount | undefined> => {
    const account = await store.accounts.findById(sub)
    if (!account || account.disabled) return undefined
    return {
      accountId: account.id,
      async claims() {
        return {
          sub: account.id,
          username: account.username,
          ...(account.clientIds[0] === undefined ? {} : { clientid: account.clientIds[0] }),
        }
      },
    }
  }
}
