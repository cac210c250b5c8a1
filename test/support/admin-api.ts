/**
 * The exchange's admin API as the CLI reaches it: an access token from the
 * IdP for the admin client (client credentials, `client_secret_basic`,
 * scope mqtt-oidc:admin, resource = the exchange), as a Bearer token.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'

export interface AdminApi {
  /** GETs `path` (e.g. `/admin/brokers/demo/sessions`) and returns the JSON, failing on a non-2xx answer. */
  get<T = Record<string, unknown>>(path: string): Promise<T>
  /** Sends `method` with a JSON body and returns the JSON, failing on a non-2xx answer. */
  send<T = Record<string, unknown>>(method: string, path: string, body?: unknown): Promise<T>
  /** A fresh access token, from `idpUrl` when given (one IdP instance behind the issuer's URL). */
  token(idpUrl?: string): Promise<string>
}

/** `dataDir` holds admin-client.json (as `pnpm start` lays it out); `exchangeUrl` is where requests go. */
export function adminApi(dataDir: string, exchangeUrl: string): AdminApi {
  const creds = JSON.parse(readFileSync(join(dataDir, 'admin-client.json'), 'utf8')) as {
    issuer: string
    exchange: string
    clientId: string
    clientSecret: string
  }
  const token = async (idpUrl = creds.issuer): Promise<string> => {
    const res = await fetch(`${idpUrl}/token`, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from(`${creds.clientId}:${creds.clientSecret}`).toString('base64')}` },
      body: new URLSearchParams({ grant_type: 'client_credentials', scope: 'mqtt-oidc:admin', resource: creds.exchange }),
    })
    if (!res.ok) throw new Error(`admin token: ${res.status} ${await res.text()}`)
    return ((await res.json()) as { access_token: string }).access_token
  }
  const send = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
    const res = await fetch(`${exchangeUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${await token()}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    })
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`)
    return (await res.json()) as T
  }
  return { get: (path) => send('GET', path), send, token }
}
