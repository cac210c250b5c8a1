/** The scripted browser's cookies (see idp-user-agent.ts). */
interface StoredCookie {
  name: string
  value: string
  host: string
  path: string
  secure: boolean
  expiresAt: number | undefined
}

/** RFC 6265 in miniature: host-only cookies, path matching, expiry, `Secure`. */
export class CookieJar {
  readonly #cookies = new Map<string, StoredCookie>()

  store(url: URL, setCookieHeaders: readonly string[]): void {
    for (const header of setCookieHeaders) {
      const [pair = '', ...attributes] = header.split(';')
      const eq = pair.indexOf('=')
      if (eq <= 0) continue
      const cookie: StoredCookie = {
        name: pair.slice(0, eq).trim(),
        value: pair.slice(eq + 1).trim(),
        host: url.hostname,
        path: defaultPath(url),
        secure: false,
        expiresAt: undefined,
      }
      for (const attribute of attributes) {
        const [rawKey = '', ...rest] = attribute.split('=')
        const key = rawKey.trim().toLowerCase()
        const value = rest.join('=').trim()
        if (key === 'path' && value.startsWith('/')) cookie.path = value
        else if (key === 'secure') cookie.secure = true
        else if (key === 'max-age' && /^-?\d+$/.test(value)) cookie.expiresAt = Date.now() + Number(value) * 1000
        else if (key === 'expires' && cookie.expiresAt === undefined && !Number.isNaN(Date.parse(value))) cookie.expiresAt = Date.parse(value)
      }
      const id = `${cookie.host}|${cookie.path}|${cookie.name}`
      if (cookie.expiresAt !== undefined && cookie.expiresAt <= Date.now()) this.#cookies.delete(id)
      else this.#cookies.set(id, cookie)
    }
  }

  /** The `Cookie` header for a request to `url` (undefined when none apply). */
  header(url: URL): string | undefined {
    const now = Date.now()
    const matching = [...this.#cookies.values()]
      .filter((c) => c.host === url.hostname && pathMatches(url.pathname, c.path) && (!c.secure || url.protocol === 'https:'))
      .filter((c) => c.expiresAt === undefined || c.expiresAt > now)
      .sort((a, b) => b.path.length - a.path.length)
    return matching.length > 0 ? matching.map((c) => `${c.name}=${c.value}`).join('; ') : undefined
  }

  /** Names of the cookies currently held for `url`. */
  names(url: URL): string[] {
    return (this.header(url) ?? '')
      .split('; ')
      .filter(Boolean)
      .map((pair) => pair.split('=')[0] ?? '')
  }
}

function defaultPath(url: URL): string {
  const last = url.pathname.lastIndexOf('/')
  return last <= 0 ? '/' : url.pathname.slice(0, last)
}

function pathMatches(requestPath: string, cookiePath: string): boolean {
  if (requestPath === cookiePath) return true
  if (!requestPath.startsWith(cookiePath)) return false
  return cookiePath.endsWith('/') || requestPath.charAt(cookiePath.length) === '/'
}
