import { Conflict } from '@mqtt-oidc/core'
import type { SigningKeyRecord, SigningKeyStore } from '@mqtt-oidc/core'
import { isUniqueViolation, type SqliteDatabase } from './sqlite-open.js'

interface Row { kid: string; alg: string; owner: 'idp' | 'exchange'; private_jwk: string; created_at: number; retired_at: number | null }

export function createSqliteSigningKeys(db: SqliteDatabase): SigningKeyStore {
  const insert = db.prepare(`INSERT INTO signing_keys (kid, alg, owner, private_jwk, created_at, retired_at)
    VALUES (@kid, @alg, @owner, @privateJwk, @createdAt, @retiredAt)`)
  const list = db.prepare('SELECT * FROM signing_keys WHERE owner = ? ORDER BY created_at, kid')
  const retire = db.prepare('UPDATE signing_keys SET retired_at = ? WHERE kid = ?')
  return {
    async add(key) {
      try { insert.run({ ...key, privateJwk: JSON.stringify(key.privateJwk) }) } catch (err) {
        if (isUniqueViolation(err)) throw new Conflict(`signing key "${key.kid}" already exists`)
        throw err
      }
    },
    async list(owner) {
      return (list.all(owner) as Row[]).map((r) => ({
        kid: r.kid, alg: r.alg, owner: r.owner, privateJwk: JSON.parse(r.private_jwk) as Record<string, unknown>,
        createdAt: r.created_at, retiredAt: r.retired_at,
      }))
    },
    async retire(kid, at) { retire.run(at, kid) },
  }
}
