import type { Store } from '@mqtt-oidc/core'
import type { Account as OidcAccount, FindAccount } from 'oidc-provider'
import type { AccountWithClientIds } from './clientid-selection.js'
import { createClientIdLeases } from './clientid-leases.js'

/**
 * oidc-provider's `findAccount`: an account that is missing or disabled is
 * not found, which also stops refresh-token use for a disabled account.
 * Claims: `sub` always; with scope `mqtt`, `username` and `clientid`; with
 * scope `groups`, `groups`.
 *
 * `clientid`: the one requested with the `clientid` parameter (it must be one
 * of the account's, and the account must own it in the client-id registry; a
 * per-login account records it as held by the grant). Otherwise a `shared`
 * account's first owned client id, and a `per-login` account's
 * (the default) grant's own lease (clientid-leases.ts), so two devices of one
 * person never fight over one MQTT client id and a refresh keeps the id.
 */
export function createFindAccount(store: Store): FindAccount {
  const leases = createClientIdLeases(store)
  return async (_ctx, sub, token): Promise<(OidcAccount & AccountWithClientIds) | undefined> => {
    const account = await store.accounts.findById(sub)
    if (!account || account.disabled) return undefined
    const grantId = (token as { grantId?: unknown } | undefined)?.grantId
    const perLogin = account.clientIdMode !== 'shared' && typeof grantId === 'string'
    return {
      accountId: account.id,
      clientIds: account.clientIds,
      async claims(_use, _scope, requested) {
        const wanted = (requested as { clientid?: { value?: unknown } } | undefined)?.clientid?.value
        let clientid: string | undefined
        if (typeof wanted === 'string') {
          // A client id requested earlier but since taken from the account (or one it lists
          // but does not own: a conflict) yields no clientid at all (the exchange then
          // refuses): never silently someone else's.
          clientid = (await leases.owned(account)).find((id) => id === wanted)
          if (clientid !== undefined && perLogin) await leases.record(account, grantId, clientid)
        } else {
          clientid = perLogin ? await leases.clientIdFor(account, grantId) : (await leases.owned(account))[0]
        }
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
