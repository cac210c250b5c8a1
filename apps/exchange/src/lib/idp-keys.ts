import { createRemoteJWKSet } from 'jose'
import type { JWTVerifyGetKey } from 'jose'
import { KeysUnavailable } from '@mqtt-oidc/core'

export interface IdpKeysOptions {
  /** The IdP's issuer URL; its discovery document names the JWKS when `jwksUri` is not given. */
  readonly issuer: string
  /** The IdP's JWKS URL; default: `jwks_uri` from `<issuer>/.well-known/openid-configuration`. */
  readonly jwksUri?: string | undefined
  /** Discovery fetch timeout in milliseconds (default 5000). */
  readonly timeoutMs?: number
}

/**
 * A jose key resolver for an IdP's signing keys. The JWKS location is found
 * lazily (first verification) and cached; a failed discovery is retried on the
 * next call. jose's remote JWKS caches keys and refetches on an unknown kid
 * (with its 30 s cooldown).
 */
export function createIdpKeys(options: IdpKeysOptions): JWTVerifyGetKey {
  let remote: Promise<JWTVerifyGetKey> | undefined
  const resolve = (): Promise<JWTVerifyGetKey> => {
    remote ??= locateJwks(options).then(
      (url) => createRemoteJWKSet(url, { timeoutDuration: options.timeoutMs ?? 5000 }),
      (err: unknown) => {
        remote = undefined
        throw err
      },
    )
    return remote
  }
  return async (header, token) => (await resolve())(header, token)
}

async function locateJwks(options: IdpKeysOptions): Promise<URL> {
  if (options.jwksUri) return new URL(options.jwksUri)
  const url = `${options.issuer.replace(/\/$/, '')}/.well-known/openid-configuration`
  let doc: unknown
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(options.timeoutMs ?? 5000), headers: { accept: 'application/json' } })
    if (!res.ok) throw new Error(`HTTP ${res.status}`)
    doc = await res.json()
  } catch (cause) {
    throw new KeysUnavailable(`cannot read the identity provider's discovery document at ${url}`, { cause })
  }
  const meta = (doc ?? {}) as { issuer?: unknown; jwks_uri?: unknown }
  if (meta.issuer !== options.issuer || typeof meta.jwks_uri !== 'string') {
    throw new KeysUnavailable(`the discovery document at ${url} does not name issuer ${options.issuer} with a jwks_uri`)
  }
  return new URL(meta.jwks_uri)
}
