import { ClientIdTaken, type Store } from '@mqtt-oidc/core'

/**
 * Admin issuance and the client id owner registry. An admin may issue for an
 * id an account or subject owns, but only by saying so (`allow`): such a
 * credential takes over the owner's MQTT session, which is what the admin
 * means when replacing a device's credential, and a takeover when it is a
 * typo or a script's collision. The admin is trusted with every topic
 * already, so refusing outright would protect nothing; the flag turns an
 * accident into a deliberate, audited act. Resolves with the owned ids
 * (empty when none); throws `ClientIdTaken` (409) listing them.
 */
export async function refuseOwnedClientIds(identityStore: Store, clientIds: readonly string[], allow: boolean, now: number): Promise<string[]> {
  const holdings = await Promise.all(clientIds.map((id) => identityStore.clientIds.holder(id, now)))
  const owned = clientIds.filter((_id, i) => holdings[i] !== undefined)
  if (owned.length === 0 || allow) return owned
  const names = owned.map((id) => JSON.stringify(id)).join(', ')
  throw new ClientIdTaken(
    `client ids ${names} belong to accounts or subjects: a credential for one takes over its owner's MQTT session; set allowOwnedClientIds (CLI --allow-owned-client-id) to issue anyway`,
    owned[0]!,
  )
}
