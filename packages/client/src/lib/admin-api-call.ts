import { AdminApiError, InvalidResponse } from '../errors.js'
import type { AdminBearer } from './admin-bearer.js'
import { readOAuthError } from './read-oauth-error.js'
import { endpointUrl } from './urls.js'

/** One JSON call to an admin API (`query`: parameters added to the URL); resolves with the parsed body (undefined for 204). */
export type AdminApiCall = (method: string, path: string, body?: unknown, query?: Readonly<Record<string, string>>) => Promise<unknown>

/**
 * Sends admin API requests with the bearer's token, fetching a new token
 * once after a 401. Error responses become `AdminApiError` with the API's
 * `error`, `error_description` and HTTP status.
 */
export function createAdminApiCall(base: URL, bearer: AdminBearer): AdminApiCall {
  return async (method, path, body, query = {}) => {
    const url = endpointUrl(base, path)
    for (const [name, value] of Object.entries(query)) url.searchParams.set(name, value)
    const send = async (token: string): Promise<Response> =>
      fetch(url, {
        method,
        redirect: 'error',
        headers: {
          authorization: `Bearer ${token}`,
          accept: 'application/json',
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      })
    let res = await send(await bearer.get())
    if (res.status === 401) {
      bearer.forget()
      res = await send(await bearer.get())
    }
    if (!res.ok) throw new AdminApiError(await readOAuthError(res))
    if (res.status === 204) return undefined
    const text = await res.text()
    if (text === '') return undefined
    try {
      return JSON.parse(text) as unknown
    } catch (err) {
      throw new InvalidResponse(`admin API ${method} ${path} answered HTTP ${res.status} with a body that is not JSON`, { cause: err })
    }
  }
}
