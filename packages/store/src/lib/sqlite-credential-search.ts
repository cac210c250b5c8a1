import type { CredentialQuery, CredentialRecord } from '@mqtt-oidc/core'
import type { SqliteDatabase } from './sqlite-open.js'
import { toCredentialRecord, type CredentialSearchRow } from './credential-rows.js'

/**
 * `CredentialStore.search` on SQLite: one statement whose unused filters are
 * NULL (always true), newest first with a keyset cursor, so a page costs the
 * same however deep it is.
 */
export function createSqliteCredentialSearch(db: SqliteDatabase): (broker: string, query: CredentialQuery) => Promise<CredentialRecord[]> {
  const search = db.prepare(`SELECT c.*, r.revoked_at FROM credentials c
    LEFT JOIN revocations r ON r.broker = c.broker AND r.jti = c.jti
    WHERE c.broker = @broker
      AND (@clientId IS NULL OR c.client_id = @clientId) AND (@jti IS NULL OR c.jti = @jti)
      AND (@contains IS NULL OR instr(c.client_id, @contains) > 0 OR instr(c.jti, @contains) > 0)
      AND (@source IS NULL OR c.source = @source)
      AND (@issuedFrom IS NULL OR c.issued_at >= @issuedFrom) AND (@issuedUntil IS NULL OR c.issued_at < @issuedUntil)
      AND (@expiresFrom IS NULL OR c.expires_at IS NULL OR c.expires_at >= @expiresFrom)
      AND (@expiresUntil IS NULL OR c.expires_at < @expiresUntil)
      AND (@revoked IS NULL OR (r.jti IS NOT NULL) = @revoked)
      AND (@afterIssuedAt IS NULL OR c.issued_at < @afterIssuedAt OR (c.issued_at = @afterIssuedAt AND c.jti < @afterJti))
    ORDER BY c.issued_at DESC, c.jti DESC LIMIT @limit`)
  return async (broker, q) =>
    (
      search.all({
        broker,
        clientId: q.clientId ?? null,
        jti: q.jti ?? null,
        contains: q.contains ?? null,
        source: q.source ?? null,
        issuedFrom: q.issuedFrom ?? null,
        issuedUntil: q.issuedUntil ?? null,
        expiresFrom: q.expiresFrom ?? null,
        expiresUntil: q.expiresUntil ?? null,
        revoked: q.revoked === undefined ? null : Number(q.revoked),
        afterIssuedAt: q.after?.issuedAt ?? null,
        afterJti: q.after?.jti ?? null,
        limit: q.limit,
      }) as CredentialSearchRow[]
    ).map(toCredentialRecord)
}
