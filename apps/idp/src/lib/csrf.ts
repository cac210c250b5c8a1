import { createHmac, hkdfSync, timingSafeEqual } from 'node:crypto'

/**
 * CSRF tokens for our interaction forms: an HMAC of the interaction uid. The
 * uid itself is a secret bound to the browser by the interaction cookie, so
 * a token minted for one interaction is useless for another. The key is
 * derived from the first cookie key, so tokens survive a restart.
 */
export interface Csrf {
  token(uid: string): string
  verify(uid: string, token: unknown): boolean
}

export function createCsrf(cookieKey: string): Csrf {
  const key = Buffer.from(hkdfSync('sha256', cookieKey, Buffer.alloc(0), 'mqtt-oidc idp csrf v1', 32))
  const token = (uid: string): string => createHmac('sha256', key).update(uid).digest('base64url')
  return {
    token,
    verify(uid, candidate) {
      if (typeof candidate !== 'string') return false
      const expected = Buffer.from(token(uid))
      const actual = Buffer.from(candidate)
      return actual.length === expected.length && timingSafeEqual(actual, expected)
    },
  }
}
