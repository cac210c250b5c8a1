import { InsecureUrl } from '../errors.js'
import { endpointUrl, isLoopbackHttp, parseSecureUrl } from './urls.js'

/**
 * Where requests meant for a public URL are sent instead: another address of
 * the same server (`http://idp:4000` inside a compose network, while the
 * issuer people and tokens name is `http://localhost:4000`). Only the
 * transport moves; the public URL stays what every check uses (the `iss` of
 * discovery and ID tokens, the admin token's `resource`).
 *
 * `https:` anywhere; plain `http:` only when the public URL is itself a
 * plain-http loopback URL (the development stack), or is loopback itself.
 */
export function parseFetchFrom(value: string, publicUrl: URL, what: string): URL {
  if (isLoopbackHttp(publicUrl)) {
    let url: URL
    try {
      url = new URL(value)
    } catch {
      throw new InsecureUrl(`${what} "${value}" is not a valid URL`)
    }
    if (url.protocol === 'http:' || url.protocol === 'https:') return url
    throw new InsecureUrl(`${what} "${value}" must be an http:// or https:// URL`)
  }
  return parseSecureUrl(value, what)
}

/** `url` moved from under `from` to under `to` (same path below the base, same query); any URL not under `from` is returned as it is. */
export function rebaseUrl(url: URL, from: URL, to: URL): URL {
  const base = from.pathname.replace(/\/+$/, '')
  if (url.origin !== from.origin || (url.pathname !== base && !url.pathname.startsWith(`${base}/`))) return url
  const moved = endpointUrl(to, url.pathname.slice(base.length))
  moved.search = url.search
  return moved
}

/** A fetch that sends requests for URLs under `from` to `to` (see rebaseUrl). */
export function fetchFromFor(from: URL, to: URL): (input: string | URL, init?: RequestInit) => Promise<Response> {
  return (input, init) => fetch(rebaseUrl(new URL(input), from, to), init)
}
