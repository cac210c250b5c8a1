import type { ServerResponse } from 'node:http'
import type { Logger } from 'pino'
import { refusalFor } from '@mqtt-oidc/core'
import { writeJson } from './lib/write-json.js'

/**
 * Writes an error as `{error, error_description}` with the status from
 * core's REFUSALS table. Our own errors carry a description meant for the
 * caller; anything unexpected becomes a generic `server_error` and its
 * detail goes to the log only. Denials are logged at warn, failures at error.
 * Works on an express Response and on a bare node:http one (the token endpoint).
 */
export function sendError(res: ServerResponse, err: unknown, log: Logger, context: Record<string, unknown> = {}): void {
  const refusal = refusalFor(err)
  const known = refusal.code !== 'ERR_SERVER' && err instanceof Error
  const description = known ? err.message : 'the server could not complete the request'
  if (!known) log.error({ err, ...context }, 'request failed')
  else if (refusal.httpStatus >= 500) log.error({ code: refusal.code, reason: description, ...context }, 'request failed')
  else log.warn({ code: refusal.code, reason: description, ...context }, 'request refused')
  if (res.headersSent) {
    res.end()
    return
  }
  writeJson(res, refusal.httpStatus, { error: refusal.oauthError, error_description: description })
}
