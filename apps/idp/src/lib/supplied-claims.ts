import type { KoaContextWithOIDC, Provider } from 'oidc-provider'

/**
 * Claims oidc-provider lists in `claims_supported` that this IdP never
 * supplies: `sid` goes only into ID tokens of clients using front- or
 * back-channel logout, which are off. Discovery 1.0 §3 makes the list the
 * claims the OP "MAY be able to supply values for".
 */
const NEVER_SUPPLIED = new Set(['sid'])

/** Takes the claims this IdP never supplies out of the discovery document. */
export function useSuppliedClaimsOnly(provider: Provider): void {
  provider.use(async (ctx: KoaContextWithOIDC, next: () => Promise<unknown>) => {
    await next()
    const body = ctx.body as { claims_supported?: unknown } | undefined
    if ((ctx as { oidc?: KoaContextWithOIDC['oidc'] }).oidc?.route === 'discovery' && Array.isArray(body?.claims_supported)) {
      body.claims_supported = body.claims_supported.filter((claim) => !NEVER_SUPPLIED.has(String(claim)))
    }
  })
}
