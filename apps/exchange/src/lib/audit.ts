import type { Response } from 'express'
import type { ExchangeContext } from './context.js'
import { adminDetails, adminName } from '../require-admin.js'

/**
 * One audit line per admin action, at info: who (a person's username with
 * their account id and the app they used, else the access token's `sub` or
 * `client_id`), what, on which broker, which jtis. Never a token.
 */
export function audit(ctx: ExchangeContext, res: Response, action: string, fields: Record<string, unknown>): void {
  ctx.log.info({ audit: true, who: adminName(res), ...adminDetails(res), action, ...fields }, `admin: ${action}`)
}
