import { ClientIdTaken } from '@mqtt-oidc/core'
import type { ClientIdHolding, ClientIdOwner, ClientIdSource } from '@mqtt-oidc/core'

/** A `client_id_owners` row (the same columns on SQLite and PostgreSQL). */
export interface HoldingRow {
  client_id: string; source: ClientIdSource; account_id: string | null; issuer: string | null; subject: string | null
  expires_at: number | null; created_at: number
}

/** A row as a holding. */
export function toHolding(r: HoldingRow): ClientIdHolding {
  const owner: ClientIdOwner | undefined = r.account_id !== null
    ? { kind: 'account', accountId: r.account_id }
    : r.issuer !== null && r.subject !== null ? { kind: 'subject', issuer: r.issuer, subject: r.subject } : undefined
  return { clientId: r.client_id, owner, source: r.source, expiresAt: r.expires_at === null ? null : Number(r.expires_at), createdAt: Number(r.created_at) }
}

/** True when a holding no longer binds anyone (a lease past its expiry). */
export function lapsed(holding: { expiresAt: number | null }, now: number): boolean {
  return holding.expiresAt !== null && holding.expiresAt <= now
}

export function sameOwner(a: ClientIdOwner | undefined, b: ClientIdOwner): boolean {
  if (a === undefined) return false
  if (a.kind === 'account') return b.kind === 'account' && a.accountId === b.accountId
  return b.kind === 'subject' && a.issuer === b.issuer && a.subject === b.subject
}

/** The message of a refused claim; never names the holder (the caller may add what its audience may see). */
export function takenError(clientId: string, holding: ClientIdHolding): ClientIdTaken {
  const why = holding.source === 'conflict'
    ? 'is listed by several accounts and belongs to none of them until all but one drop it'
    : holding.owner?.kind === 'subject' ? 'belongs to a subject of another issuer' : 'belongs to another account'
  return new ClientIdTaken(`client id ${JSON.stringify(clientId)} ${why}`, clientId)
}

