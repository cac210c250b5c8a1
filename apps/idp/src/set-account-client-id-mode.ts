import { CLIENT_ID_MODES, InvalidRequest, NotFound, type Account, type ClientIdMode, type Store } from '@mqtt-oidc/core'

/**
 * Sets how the account `username` gets MQTT client ids: `per-login` (each
 * sign-in its own) or `shared` (every sign-in the first configured one).
 * Grants signed in before keep the client id they hold. Throws `NotFound`
 * when there is no such account, `InvalidRequest` on an unknown mode.
 *
 * @example await setAccountClientIdMode(store, 'gw-17', 'shared')
 */
export async function setAccountClientIdMode(store: Store, username: string, clientIdMode: ClientIdMode): Promise<Account> {
  if (!CLIENT_ID_MODES.includes(clientIdMode)) throw new InvalidRequest(`client id mode must be one of ${CLIENT_ID_MODES.join(', ')}`)
  const account = await store.accounts.findByUsername(username)
  if (!account) throw new NotFound(`no account ${JSON.stringify(username)}`)
  return store.accounts.update(account.id, { clientIdMode })
}
