import { expect } from 'vitest'
import { ADMIN_SECRET } from './test-idp.js'

/** An HTTP Basic header (client_secret_basic: both parts form-encoded first, RFC 6749 §2.3.1). */
export function basic(user: string, password: string): string {
  return `Basic ${Buffer.from(`${encodeURIComponent(user)}:${encodeURIComponent(password)}`).toString('base64')}`
}

/**
 * An admin access token from the IdP's client credentials grant (the admin
 * client, scope mqtt-oidc:admin) for `resource`: the IdP itself (its admin
 * API) by default, or the exchange.
 */
export async function adminToken(issuer: string, resource = issuer): Promise<string> {
  const res = await fetch(`${issuer}/token`, {
    method: 'POST',
    headers: { authorization: basic('mqtt-oidc-admin', ADMIN_SECRET) },
    body: new URLSearchParams({ grant_type: 'client_credentials', scope: 'mqtt-oidc:admin', resource }),
  })
  const body = (await res.json()) as { access_token?: string }
  if (!body.access_token) throw new Error(`no admin token: ${JSON.stringify(body)}`)
  return body.access_token
}

/** Calls the admin API at `<issuer>/admin<path>` with `token` (or another one) and a JSON body. */
export type AdminApi = (method: string, path: string, body?: unknown, token?: string) => Promise<Response>

export function adminApi(issuer: string, adminToken: string): AdminApi {
  return (method, path, body, token = adminToken) =>
    fetch(`${issuer}/admin${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    })
}

/** The JSON body of a response that must have `status`. */
export async function ok<T = Record<string, unknown>>(res: Response, status = 200): Promise<T> {
  const body = (await res.json()) as T
  expect(res.status, JSON.stringify(body)).toBe(status)
  return body
}

/** Asserts the whole refusal: status and body. */
export async function refused(res: Response, status: number, body: Record<string, string>): Promise<void> {
  expect({ status: res.status, body: await res.json() }).toEqual({ status, body })
}
