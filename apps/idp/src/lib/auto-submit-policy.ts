import type { KoaContextWithOIDC, Provider } from 'oidc-provider'
import { contentSecurityPolicy, PAGE_HEADERS } from './html.js'

/**
 * `verification_uri_complete` (GET /device?user_code=...) and RP-initiated
 * logout without a session (/session/end, which oidc-provider answers with a
 * form that submits itself) are oidc-provider's auto-submitting forms.
 * Setting our headers first (frames blocked like every page), with an empty
 * `script-src`, lets oidc-provider add the hash of exactly that one inline
 * script and nothing else. Pages of ours rendered on these routes replace
 * the policy with their own.
 */
export function useAutoSubmitPolicy(provider: Provider, codeVerificationPath: string, endSessionPath: string): void {
  provider.use(async (ctx: KoaContextWithOIDC, next: () => Promise<unknown>) => {
    const autoSubmit = ctx.method === 'GET' && ctx.path === codeVerificationPath && ctx.query.user_code !== undefined
    if (autoSubmit || ctx.path === endSessionPath) {
      ctx.set(PAGE_HEADERS)
      ctx.set('Content-Security-Policy', contentSecurityPolicy({ scriptHashSlot: true }))
    }
    await next()
  })
}
