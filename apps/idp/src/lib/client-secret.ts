import { createHash, randomBytes, timingSafeEqual } from 'node:crypto'
import type { Provider } from 'oidc-provider'

const PREFIX = 'sha256:'

/**
 * A new client secret (256 random bits, base64url) and the hash that is
 * stored instead of it. One SHA-256 suffices: the secret is random and as
 * long as the hash, so there is nothing to guess that a slow hash would protect.
 */
export function createClientSecret(): { secret: string; hash: string } {
  const secret = randomBytes(32).toString('base64url')
  return { secret, hash: hashClientSecret(secret) }
}

/** The stored form of a client secret. */
export function hashClientSecret(secret: string): string {
  return `${PREFIX}${createHash('sha256').update(secret, 'utf8').digest('base64url')}`
}

/** Constant-time check of a presented secret against its stored hash. */
export function clientSecretMatches(presented: string, storedHash: string | undefined): boolean {
  if (storedHash === undefined || !storedHash.startsWith(PREFIX)) return false
  const expected = Buffer.from(storedHash)
  const actual = Buffer.from(hashClientSecret(presented))
  return actual.length === expected.length && timingSafeEqual(actual, expected)
}

/**
 * oidc-provider compares a client's `client_secret` metadata with the
 * presented secret in `Client#compareClientSecret`. Our clients carry the
 * hash there (the store and the static admin client never hold the secret),
 * so the comparison hashes first. `client_secret_jwt` and HS* algorithms,
 * which would need the secret itself, are not enabled.
 */
export function useHashedClientSecrets(provider: Provider): void {
  const prototype = provider.Client.prototype as unknown as { compareClientSecret?: unknown }
  // Fail at start, not at the first sign-in, if an oidc-provider upgrade renames the hook.
  if (typeof prototype.compareClientSecret !== 'function')
    throw new Error('oidc-provider has no Client#compareClientSecret: hashed client secrets cannot be checked')
  prototype.compareClientSecret = function compareClientSecret(this: { clientSecret?: string }, presented: unknown): boolean {
    return typeof presented === 'string' && clientSecretMatches(presented, this.clientSecret)
  }
}
