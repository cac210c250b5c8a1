import { InvalidRequest, TokenRevoked, type ClientIdOwner, type Store } from '@mqtt-oidc/core'
import type { SubjectIdentity } from '../verify-subject-token.js'

export interface Admission {
  /** Where our IdP keeps its accounts, the client id registry and account cut-offs. */
  readonly identityStore: Store
  /** Our IdP's issuer URL: its `sub` is an account id in `identityStore`. */
  readonly idpIssuer: string
  readonly now: number
}

/**
 * What the subject may do beyond a valid signature:
 * - a token of our IdP whose account is in the identity store is refused when
 *   the account is disabled or the token predates its cut-off (a disable);
 * - the MQTT client id must be the subject's: an account's own (configured or
 *   leased), or a subject of another issuer's (the first one to use a free id
 *   gets it, for good). Generated ids (`claimed` false) are new ULIDs: nobody
 *   else's by construction.
 * Throws `TokenRevoked` or `InvalidRequest` (RFC 8693: the subject token is
 * unacceptable) naming the reason but never the other owner.
 */
export async function admitSubject(admission: Admission, identity: SubjectIdentity, clientId: string, claimed: boolean): Promise<void> {
  const { identityStore: store, now } = admission
  const ours = identity.issuer.issuer === admission.idpIssuer
  const [account, cutoff, holding] = await Promise.all([
    ours ? store.accounts.findById(identity.sub) : undefined,
    ours ? store.cutoffs.get(identity.sub) : undefined,
    claimed ? store.clientIds.holder(clientId, now) : undefined,
  ])
  if (account?.disabled) throw new TokenRevoked("subject_token's account is disabled")
  const iat = identity.claims.iat
  if (cutoff && !(typeof iat === 'number' && iat >= cutoff.notBefore)) {
    throw new TokenRevoked('subject_token was issued before its account was disabled; sign in again')
  }
  if (!claimed) return
  const owner: ClientIdOwner = ours ? { kind: 'account', accountId: identity.sub } : { kind: 'subject', issuer: identity.issuer.issuer, subject: identity.sub }
  const id = JSON.stringify(clientId)
  // Our IdP registers every id it puts in a token: a free one was taken from the account since.
  if (!holding && account) throw new InvalidRequest(`subject_token's clientid ${id} is not one of its account's client ids`)
  const held = holding ?? (await store.clientIds.claim(clientId, owner, { source: 'exchange', expiresAt: null, now }))
  if (!isOwner(held.owner, owner)) throw new InvalidRequest(`subject_token's clientid ${id} belongs to another account`)
}

function isOwner(holder: ClientIdOwner | undefined, owner: ClientIdOwner): boolean {
  if (holder?.kind === 'account') return owner.kind === 'account' && holder.accountId === owner.accountId
  if (holder?.kind === 'subject') return owner.kind === 'subject' && holder.issuer === owner.issuer && holder.subject === owner.subject
  return false
}
