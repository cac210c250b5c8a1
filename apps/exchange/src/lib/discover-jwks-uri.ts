import { KeysUnavailable } from '@mqtt-oidc/core'

/**
 * The `jwks_uri` of an OpenID issuer, from its discovery document
 * (`<issuer>/.well-known/openid-configuration`), which must name that same
 * issuer (OpenID Connect Discovery §4.3).
 */
export async function discoverJwksUri(issuer: string, timeoutMs: number): Promise<string> {
  const url = `${issuer.replace(/\/$/, '')}/.well-known/openid-configuration`
  let meta: { issuer?: unknown; jwks_uri?: unknown } | undefined
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs), headers: { accept: 'application/json' }, redirect: 'error' })
    if (!res.ok) throw new Error(`HTTP ${res.status}`)
    meta = (await res.json()) as typeof meta
  } catch (cause) {
    throw new KeysUnavailable(`cannot read the discovery document at ${url}`, { cause })
  }
  if (meta?.issuer !== issuer || typeof meta.jwks_uri !== 'string') {
    throw new KeysUnavailable(`the discovery document at ${url} does not name issuer ${issuer} with a jwks_uri`)
  }
  return meta.jwks_uri
}
