import type { CredentialQuery, CredentialRecord } from '@mqtt-oidc/core'
import type { PgPool } from './postgres-pool.js'
import { toCredentialRecord, type CredentialSearchRow } from './credential-rows.js'

/**
 * `CredentialStore.search` on PostgreSQL: the same statement as SQLite's,
 * jtis compared byte by byte (COLLATE "C") so pages follow the same order.
 */
export function createPostgresCredentialSearch(pool: PgPool): (broker: string, query: CredentialQuery) => Promise<CredentialRecord[]> {
  return async (broker, q) => {
    const { rows } = await pool.query<CredentialSearchRow>(
      `SELECT c.*, r.revoked_at FROM credentials c
      LEFT JOIN revocations r ON r.broker = c.broker AND r.jti = c.jti
      WHERE c.broker = $1
        AND ($2::text IS NULL OR c.client_id = $2) AND ($3::text IS NULL OR c.jti = $3)
        AND ($4::text IS NULL OR strpos(c.client_id, $4) > 0 OR strpos(c.jti, $4) > 0)
        AND ($5::text IS NULL OR c.source = $5)
        AND ($6::bigint IS NULL OR c.issued_at >= $6) AND ($7::bigint IS NULL OR c.issued_at < $7)
        AND ($8::bigint IS NULL OR c.expires_at IS NULL OR c.expires_at >= $8)
        AND ($9::bigint IS NULL OR c.expires_at < $9)
        AND ($10::boolean IS NULL OR (r.jti IS NOT NULL) = $10)
        AND ($11::bigint IS NULL OR c.issued_at < $11 OR (c.issued_at = $11 AND c.jti COLLATE "C" < $12::text COLLATE "C"))
      ORDER BY c.issued_at DESC, c.jti COLLATE "C" DESC LIMIT $13`,
      [
        broker,
        q.clientId ?? null,
        q.jti ?? null,
        q.contains ?? null,
        q.source ?? null,
        q.issuedFrom ?? null,
        q.issuedUntil ?? null,
        q.expiresFrom ?? null,
        q.expiresUntil ?? null,
        q.revoked ?? null,
        q.after?.issuedAt ?? null,
        q.after?.jti ?? null,
        q.limit,
      ],
    )
    return rows.map(toCredentialRecord)
  }
}
