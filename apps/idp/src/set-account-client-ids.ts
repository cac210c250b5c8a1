import { InvalidRequest, NotFound, type Account, type Store } from '@mqtt-oidc/core'
import { clientIdProblems } from './lib/client-id-problems.js'
import { explainTakenClientId } from './lib/explain-taken-client-id.js'

/**
 * Replaces the MQTT client ids of the account `username` (the first is the
 * default). Ids it drops are free for other accounts at once, and sign-ins
 * holding one stop getting it in refreshed ID tokens. Throws `NotFound`,
 * `InvalidRequest` on a bad or empty list, `ClientIdTaken` (saying who holds
 * it) when an added id belongs to someone else; then nothing changes.
 *
 * @example await setAccountClientIds(store, 'alice', ['alice-laptop', 'alice-phone'])
 */
export async function setAccountClientIds(store: Store, username: string, clientIds: readonly string[]): Promise<Account> {
  const problems = clientIds.length === 0 ? ['an account needs at least one client id'] : clientIdProblems(clientIds)
  if (problems.length > 0) throw new InvalidRequest(problems.join('; '))
  const account = await store.accounts.findByUsername(username)
  if (!account) throw new NotFound(`no account ${JSON.stringify(username)}`)
  return store.accounts.update(account.id, { clientIds: [...clientIds] }).catch(async (err: unknown) => {
    throw await explainTakenClientId(store, err)
  })
}
