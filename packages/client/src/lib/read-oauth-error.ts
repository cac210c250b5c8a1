import type { OAuthErrorFields } from '../errors.js'
import { isRecord } from '@mqtt-oidc/core'

/**
 * Reads an OAuth-style error body (`{error, error_description}`) from a
 * non-2xx response. A body that is not one (an HTML page from a proxy, ...)
 * becomes `server_error` naming the HTTP status, so callers always get the
 * same typed shape.
 */
export async function readOAuthError(res: Response): Promise<OAuthErrorFields> {
  const text = await res.text().catch(() => '')
  try {
    const body: unknown = JSON.parse(text)
    if (isRecord(body) && typeof body.error === 'string' && body.error !== '') {
      const description = typeof body.error_description === 'string' ? body.error_description : undefined
      return { error: body.error, error_description: description, status: res.status }
    }
  } catch {
    // not JSON: fall through
  }
  return { error: 'server_error', error_description: `HTTP ${res.status} ${res.statusText}`.trim(), status: res.status }
}
