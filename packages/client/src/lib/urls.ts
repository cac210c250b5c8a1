import { InsecureUrl } from '../errors.js'

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]'])

/** True for `http://localhost`, `http://127.0.0.1` and `http://[::1]` (any port). */
export function isLoopbackHttp(url: URL): boolean {
  return url.protocol === 'http:' && LOOPBACK_HOSTS.has(url.hostname)
}

/**
 * Parses `value` as a URL that may carry tokens: `https:` anywhere, plain
 * `http:` only on a loopback host (the embedded development stack).
 */
export function parseSecureUrl(value: string, what: string): URL {
  let url: URL
  try {
    url = new URL(value)
  } catch {
    throw new InsecureUrl(`${what} "${value}" is not a valid URL`)
  }
  if (url.protocol === 'https:' || isLoopbackHttp(url)) return url
  throw new InsecureUrl(`${what} "${value}" must use https:// (plain http:// is allowed for localhost / 127.0.0.1 only)`)
}

/** `base` + `path`, keeping any path prefix of `base` (`https://h/x` + `/token` = `https://h/x/token`). */
export function endpointUrl(base: URL, path: string): URL {
  const url = new URL(base.href)
  url.pathname = `${url.pathname.replace(/\/+$/, '')}${path}`
  url.search = ''
  url.hash = ''
  return url
}
