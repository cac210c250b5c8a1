import type { ClientIdConflict, Store } from '@mqtt-oidc/core'

/**
 * The client ids in conflict: listed by several accounts when the store
 * started recording owners. Nobody signs in with such an id (each account's
 * ID tokens leave it out) until `setAccountClientIds` takes it from all
 * accounts but one, which then owns it.
 */
export async function listClientIdConflicts(store: Store): Promise<ClientIdConflict[]> {
  const conflicts = await store.clientIds.conflicts()
  return Promise.all(
    conflicts.map(async ({ clientId, accountIds }) => ({
      clientId,
      usernames: (await Promise.all(accountIds.map(async (id) => (await store.accounts.findById(id))?.username ?? id))).sort(),
    })),
  )
}
