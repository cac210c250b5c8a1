import { ClientIdTaken, type Store } from '@mqtt-oidc/core'

/**
 * The store's ClientIdTaken names no one (its message may reach a token
 * holder); an admin changing accounts may see who holds the id, and how to
 * free it. Anything else comes back unchanged.
 */
export async function explainTakenClientId(store: Store, err: unknown): Promise<unknown> {
  if (!(err instanceof ClientIdTaken)) return err
  const id = JSON.stringify(err.clientId)
  const holding = await store.clientIds.holder(err.clientId, Math.floor(Date.now() / 1000))
  const owner = holding?.owner
  if (holding?.source === 'conflict') {
    const names = await usernames(store, (await store.clientIds.conflicts()).find((c) => c.clientId === err.clientId)?.accountIds ?? [])
    return new ClientIdTaken(
      `client id ${id} is listed by several accounts (${names.join(', ')}) and belongs to none until all but one drop it (users set <name> --client-id ...)`,
      err.clientId,
    )
  }
  if (owner?.kind === 'account') {
    const [name = owner.accountId] = await usernames(store, [owner.accountId])
    return new ClientIdTaken(
      `client id ${id} belongs to account ${JSON.stringify(name)}; pick another, or take it from ${name} first (users set ${name} --client-id ...)`,
      err.clientId,
    )
  }
  if (owner?.kind === 'subject') {
    return new ClientIdTaken(
      `client id ${id} belongs to subject ${JSON.stringify(owner.subject)} of ${owner.issuer}, which signed in with it through the exchange; pick another`,
      err.clientId,
    )
  }
  return err
}

async function usernames(store: Store, accountIds: readonly string[]): Promise<string[]> {
  const accounts = await Promise.all(accountIds.map((id) => store.accounts.findById(id)))
  return accounts.map((account, i) => account?.username ?? accountIds[i] ?? '')
}
