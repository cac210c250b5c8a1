import type { Request, Response } from 'express'

/** The console's two cookies: the session, and a sign-in in progress (binds the callback to the browser that started it). */
export interface ConsoleCookies {
  session(req: Request): string | undefined
  login(req: Request): string | undefined
  setSession(res: Response, id: string, maxAgeSeconds: number): void
  setLogin(res: Response, id: string): void
  clearSession(res: Response): void
  clearLogin(res: Response): void
}

/**
 * HttpOnly (page scripts never see them), SameSite=Lax (no cross-site
 * POST carries them; the IdP's redirect back, a top-level GET, does), path
 * /console, and Secure with the `__Secure-` prefix when the exchange's
 * public URL is https.
 */
export function consoleCookies(secure: boolean): ConsoleCookies {
  const prefix = secure ? '__Secure-' : ''
  const sessionName = `${prefix}mqtt-oidc-console`
  const loginName = `${prefix}mqtt-oidc-console-login`
  const attributes = `Path=/console; HttpOnly; SameSite=Lax${secure ? '; Secure' : ''}`
  const set = (res: Response, name: string, value: string, maxAge: number): void => {
    res.append('Set-Cookie', `${name}=${value}; Max-Age=${maxAge}; ${attributes}`)
  }
  return {
    session: (req) => readCookie(req, sessionName),
    login: (req) => readCookie(req, loginName),
    setSession: (res, id, maxAge) => set(res, sessionName, id, maxAge),
    setLogin: (res, id) => set(res, loginName, id, 600),
    clearSession: (res) => set(res, sessionName, '', 0),
    clearLogin: (res) => set(res, loginName, '', 0),
  }
}

function readCookie(req: Request, name: string): string | undefined {
  for (const part of (req.get('cookie') ?? '').split(';')) {
    const eq = part.indexOf('=')
    if (eq > 0 && part.slice(0, eq).trim() === name) {
      const value = part.slice(eq + 1).trim()
      return /^[A-Za-z0-9_-]{1,128}$/.test(value) ? value : undefined
    }
  }
  return undefined
}
