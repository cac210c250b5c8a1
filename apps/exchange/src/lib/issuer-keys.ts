import { createPublicKey } from 'node:crypto'
import type { JsonWebKeyInput, KeyObject } from 'node:crypto'
import { KeysUnavailable } from '@mqtt-oidc/core'

export interface IssuerKeysOptions {
  /** The issuer URL; its discovery document names the JWKS when `jwksUri` is not given. */
  readonly issuer: string
  /** The JWKS URL. Default: `jwks_uri` from `<issuer>/.well-known/openid-configuration`. */
  readonly jwksUri?: string | undefined
  /** Fetch timeout, ms. Default 5000. */
  readonly timeoutMs?: number | undefined
  /** Least time between two JWKS fetches caused by an unknown kid, ms. Default 30000. */
  readonly cooldownMs?: number | undefined
}

/** Resolves the verification key of a token from its issuer's JWKS, as a ready KeyObject. */
export interface IssuerKeys {
  /** The one key matching `kid` (and fitting `alg`), or undefined; throws KeysUnavailable when none were ever fetched. */
  key(header: { readonly kid?: unknown; readonly alg: string }): Promise<KeyObject | undefined>
}

interface CachedKey { readonly kid: string | undefined; readonly alg: string | undefined; readonly key: KeyObject }

const KEY_TYPES: Readonly<Record<string, string>> = { RS256: 'rsa', PS256: 'rsa', ES256: 'ec', EdDSA: 'ed25519' }

/**
 * An issuer's JWKS, imported once into KeyObjects (no per-request import).
 * The JWKS location comes from discovery on first use (a failure is retried
 * on the next call); an unknown kid refetches the JWKS, at most once per
 * cooldown, and concurrent misses share one fetch.
 */
export function createIssuerKeys(options: IssuerKeysOptions): IssuerKeys {
  const timeoutMs = options.timeoutMs ?? 5000
  const cooldownMs = options.cooldownMs ?? 30_000
  let location: Promise<string> | undefined
  let keys: CachedKey[] | undefined
  let fetchedAt = -Infinity
  let inflight: Promise<void> | undefined

  const refresh = (): Promise<void> => {
    inflight ??= (async () => {
      try {
        location ??= locateJwks(options.issuer, options.jwksUri, timeoutMs).catch((err: unknown) => {
          location = undefined
          throw err
        })
        keys = importJwks(await fetchJson(await location, timeoutMs, 'JWKS'))
        fetchedAt = Date.now()
      } catch (err) {
        // With keys in hand, a failed refetch waits for the cooldown too.
        if (keys) fetchedAt = Date.now()
        throw new KeysUnavailable(`the identity provider's keys are unavailable`, { cause: err })
      } finally {
        inflight = undefined
      }
    })()
    return inflight
  }

  return {
    async key(header) {
      const kid = typeof header.kid === 'string' ? header.kid : undefined
      let found = keys && pick(keys, kid, header.alg)
      if (!found && (!keys || Date.now() - fetchedAt >= cooldownMs)) {
        await refresh().catch((err: unknown) => { if (!keys) throw err })
        found = keys && pick(keys, kid, header.alg)
      }
      return found
    },
  }
}

function pick(keys: readonly CachedKey[], kid: string | undefined, alg: string): KeyObject | undefined {
  const fits = keys.filter((k) => (k.alg === undefined || k.alg === alg) && k.key.asymmetricKeyType === KEY_TYPES[alg])
  const matches = kid === undefined ? fits : fits.filter((k) => k.kid === kid)
  return matches.length === 1 ? matches[0]!.key : undefined
}

function importJwks(doc: unknown): CachedKey[] {
  const list = (doc as { keys?: unknown } | undefined)?.keys
  if (!Array.isArray(list)) throw new KeysUnavailable('the JWKS has no keys array')
  const keys: CachedKey[] = []
  for (const jwk of list as Record<string, unknown>[]) {
    if (jwk.use !== undefined && jwk.use !== 'sig') continue
    try {
      const key = createPublicKey({ key: jwk, format: 'jwk' } as JsonWebKeyInput)
      keys.push({ kid: typeof jwk.kid === 'string' ? jwk.kid : undefined, alg: typeof jwk.alg === 'string' ? jwk.alg : undefined, key })
    } catch {
      // A key we cannot use (unknown kty or curve) is skipped, not fatal.
    }
  }
  return keys
}

async function locateJwks(issuer: string, jwksUri: string | undefined, timeoutMs: number): Promise<string> {
  if (jwksUri) return jwksUri
  const url = `${issuer.replace(/\/$/, '')}/.well-known/openid-configuration`
  const meta = (await fetchJson(url, timeoutMs, 'discovery document')) as { issuer?: unknown; jwks_uri?: unknown } | undefined
  if (meta?.issuer !== issuer || typeof meta.jwks_uri !== 'string') {
    throw new KeysUnavailable(`the discovery document at ${url} does not name issuer ${issuer} with a jwks_uri`)
  }
  return meta.jwks_uri
}

async function fetchJson(url: string, timeoutMs: number, what: string): Promise<unknown> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs), headers: { accept: 'application/json' } })
    if (!res.ok) throw new Error(`HTTP ${res.status}`)
    return await res.json()
  } catch (cause) {
    throw new KeysUnavailable(`cannot read the identity provider's ${what} at ${url}`, { cause })
  }
}
