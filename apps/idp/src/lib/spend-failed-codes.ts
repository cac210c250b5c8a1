import type { KoaContextWithOIDC, Provider } from 'oidc-provider'

/**
 * oidc-provider leaves an authorization code usable after a token request
 * with the wrong PKCE verifier (or redirect_uri). Whoever sends the wrong
 * verifier is not the client that started the flow, so the code is spent on
 * the first failure: no second guess, and the real client's later attempt
 * counts as a replay, which revokes the grant (fail closed).
 */
export function useSpendFailedCodes(provider: Provider): void {
  provider.use(async (ctx: KoaContextWithOIDC, next: () => Promise<unknown>) => {
    await next()
    const oidc = (ctx as { oidc?: KoaContextWithOIDC['oidc'] }).oidc
    if (oidc?.route !== 'token' || oidc.params?.grant_type !== 'authorization_code' || ctx.status !== 400) return
    const body = ctx.body as { error?: unknown } | undefined
    const code = oidc.params.code
    if (body?.error !== 'invalid_grant' || typeof code !== 'string') return
    const stored = await provider.AuthorizationCode.find(code, { ignoreExpiration: true })
    if (stored && !(stored as { consumed?: unknown }).consumed && stored.clientId === oidc.client?.clientId) await stored.consume()
  })
}
