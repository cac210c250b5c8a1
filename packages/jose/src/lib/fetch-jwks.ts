import { parseJwks } from './parse-jwks.js'
import type { VerificationKey } from './parse-jwks.js'
import { readLimited } from './read-limited.js'

export interface JwksFetch {
  readonly fetch: typeof fetch
  readonly timeoutMs: number
  readonly maxBytes: number
  /** The ETag of the keys held, if any: asked with If-None-Match. */
  readonly etag: string | undefined
}

/**
 * One JWKS fetch: the keys and the new ETag, or 'unchanged' on a 304. Throws
 * on anything but a usable JWKS: an error status, a redirect, a body over
 * `maxBytes`, not JSON, no usable key, no answer within `timeoutMs`.
 */
export async function fetchJwks(url: URL, o: JwksFetch): Promise<{ keys: VerificationKey[]; etag: string | undefined } | 'unchanged'> {
  const headers: Record<string, string> = { accept: 'application/json', ...(o.etag ? { 'if-none-match': o.etag } : {}) }
  const res = await o.fetch(url, { headers, signal: AbortSignal.timeout(o.timeoutMs), redirect: 'error' })
  if (res.status === 304 && o.etag) return 'unchanged'
  if (!res.ok) {
    await res.body?.cancel().catch(() => {})
    throw new Error(`the JWKS endpoint answered HTTP ${res.status}`)
  }
  const keys = parseJwks(JSON.parse(await readLimited(res, o.maxBytes)))
  return { keys, etag: res.headers.get('etag') ?? undefined }
}
