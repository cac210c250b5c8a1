import type { Response } from 'express'
import type { ExchangeContext } from './context.js'
import { adminName } from '../require-admin.js'

/**
 * One audit line per admin action, at info: who (the access token's `sub`,
 * else `client_id`), what, on which broker, which jtis. Never a token.
 */
export function audit(ctx: ExchangeContext, res: Response, action: string, fields: Record<string, unknown>): void {
  ctx.log.info({ audit: true, who: adminName(res), action, ...fields }, `admin: ${action}`)
}
