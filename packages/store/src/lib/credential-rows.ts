import type { Credential, CredentialRecord } from '@mqtt-oidc/core'

/** A `credentials` row (the same columns on SQLite and PostgreSQL). */
export interface CredentialRow {
  jti: string
  broker: string
  client_id: string
  username: string | null
  issued_at: number
  expires_at: number | null
  source: 'admin' | 'exchange'
  issued_by: string
}

/** A credentials row joined with its revocation (the credential search). */
export interface CredentialSearchRow extends CredentialRow {
  revoked_at: number | null
}

/** A row as a credential. */
export function toCredential(r: CredentialRow): Credential {
  return {
    jti: r.jti,
    broker: r.broker,
    clientId: r.client_id,
    username: r.username,
    issuedAt: r.issued_at,
    expiresAt: r.expires_at,
    source: r.source,
    issuedBy: r.issued_by,
  }
}

/** A joined row as a credential record, with when it was revoked. */
export function toCredentialRecord(r: CredentialSearchRow): CredentialRecord {
  return { ...toCredential(r), revokedAt: r.revoked_at }
}
