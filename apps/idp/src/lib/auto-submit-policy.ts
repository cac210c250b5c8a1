import type { KoaContextWithOIDC, Provider } from 'oidc-provider'
import { contentSecurityPolicy, PAGE_HEADERS } from './html.js'

/**
 * `verification_uri_complete` (GET /device?user_code=...) answers with
 * oidc-provider's auto-submitting form. Setting our policy first, with an
 * empty `script-src`, lets oidc-provider add the hash of exactly that one
 * inline script and nothing else.
 */
export function useAutoSubmitPolicy(provider: Provider, codeVerificationPath: string): void {
  provider.use(async (ctx: KoaContextWithOIDC, next: () => Promise<unknown>) => {
    if (ctx.method === 'GET' && ctx.path === codeVerificationPath && ctx.query.user_code !== undefined) {
      ctx.set(PAGE_HEADERS)
      ctx.set('Content-Security-Policy', contentSecurityPolicy({ scriptHashSlot: true }))
    }
    await next()
  })
}
