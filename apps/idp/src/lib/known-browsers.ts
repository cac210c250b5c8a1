import { createHash, createHmac, hkdfSync, timingSafeEqual } from 'node:crypto'
import type { Request, Response } from 'express'

/** The cookie naming the accounts that signed in from this browser. */
export const KNOWN_BROWSER_COOKIE = 'mqtt_oidc_known'

// Where the login form posts: the only place the cookie is needed.
const COOKIE_PATH = '/interaction'
// A browser shared by a family or a team: a few accounts, the latest first.
const MAX_ACCOUNTS = 8

/**
 * Browsers that signed in to an account before (OWASP's "device cookie"
 * against lock-out attacks): a signed cookie listing (hashes of) the
 * usernames that signed in from it. A known browser is not slowed down by
 * the account's back-off, which failures from other clients drive; its own
 * failures still count at its address. Keys derive from the cookie keys
 * (the first signs, all verify), so a restart or a key rotation keeps
 * browsers known.
 */
export interface KnownBrowsers {
  /** True when the request's cookie is valid and names `username`. */
  isKnown(req: Request, username: string): boolean
  /** Adds `username` to the browser's cookie (after a successful sign-in). */
  remember(req: Request, res: Response, username: string): void
}

export function createKnownBrowsers(cookieKeys: readonly string[], maxAgeSeconds: number): KnownBrowsers {
  const keys = cookieKeys.map((cookieKey) => Buffer.from(hkdfSync('sha256', cookieKey, Buffer.alloc(0), 'mqtt-oidc idp known browser v1', 32)))
  const sign = (key: Buffer, payload: string): string => createHmac('sha256', key).update(payload).digest('base64url')
  const entry = (username: string): string => createHash('sha256').update(username.normalize('NFC').toLowerCase()).digest('base64url').slice(0, 22)

  const read = (req: Request): string[] => {
    const raw = cookieValue(req.headers.cookie, KNOWN_BROWSER_COOKIE)
    const [payload = '', mac = ''] = raw?.split('.') ?? []
    const given = Buffer.from(mac)
    const valid = keys.some((key) => {
      const expected = Buffer.from(sign(key, payload))
      return given.length === expected.length && timingSafeEqual(given, expected)
    })
    if (!valid) return []
    try {
      const { u, t } = JSON.parse(Buffer.from(payload, 'base64url').toString()) as { u?: unknown; t?: unknown }
      const fresh = typeof t === 'number' && Date.now() / 1000 - t < maxAgeSeconds
      return fresh && Array.isArray(u) ? u.filter((x): x is string => typeof x === 'string') : []
    } catch {
      return []
    }
  }

  return {
    isKnown: (req, username) => read(req).includes(entry(username)),
    remember(req, res, username) {
      const accounts = [entry(username), ...read(req).filter((u) => u !== entry(username))].slice(0, MAX_ACCOUNTS)
      const payload = Buffer.from(JSON.stringify({ u: accounts, t: Math.floor(Date.now() / 1000) })).toString('base64url')
      res.cookie(KNOWN_BROWSER_COOKIE, `${payload}.${sign(keys[0]!, payload)}`, {
        path: COOKIE_PATH,
        maxAge: maxAgeSeconds * 1000,
        httpOnly: true,
        sameSite: 'lax',
        secure: req.secure,
      })
    },
  }
}

function cookieValue(header: string | undefined, name: string): string | undefined {
  for (const part of header?.split(';') ?? []) {
    const eq = part.indexOf('=')
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim()
  }
  return undefined
}
