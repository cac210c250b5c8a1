import { describeError } from './describe-error.js'
import { FeedHttpError } from './feed-client.js'
import type { LogFn } from '../types.js'

/**
 * Failure logging: a refused credential (401/403) is an operator's problem, logged at error
 * once per streak with what to do; anything else is transient, logged at warn.
 */
export function createFeedFailureLog(
  log: LogFn,
  fields: Record<string, unknown>,
): {
  failed(err: unknown, msg: string, extra?: Record<string, unknown>): void
  cleared(): void
} {
  let refused = false
  return {
    failed(err, msg, extra = {}) {
      if (err instanceof FeedHttpError && (err.status === 401 || err.status === 403)) {
        if (!refused) {
          log('error', "revocation feed refused this broker's credential: give the broker its feed credential (see the exchange's feed-credential command)", {
            ...fields,
            code: 'ERR_UNAUTHENTICATED',
            status: err.status,
            ...extra,
          })
        }
        refused = true
        return
      }
      log('warn', msg, { ...fields, err: describeError(err), ...extra })
    },
    cleared() {
      refused = false
    },
  }
}
