import { interactionPolicy, type KoaContextWithOIDC } from 'oidc-provider'

const OFFLINE_ACCESS = 'offline_access'

/**
 * OIDC Core §11 for the authorization code flow: `offline_access` needs the
 * End-User's consent. oidc-provider reads "the prompt parameter contains
 * consent" literally and drops the scope from any request without
 * `prompt=consent`, so a client that asks for offline access silently gets
 * no refresh token. Here the scope is kept instead, and consent is made
 * sure of the other way §11 allows: the consent prompt (our consent page,
 * which names offline access) is shown whenever the grant does not already
 * hold it — always for native clients, whose every sign-in asks.
 *
 * Returns the policy with a first login-prompt check that never prompts:
 * it only puts back the `offline_access` that was requested and dropped,
 * when §11 lets it be honoured at all (a code response, a client allowed
 * refresh tokens and this scope, and no `prompt=none`, which must not ask).
 */
export function withOfflineAccessConsent(policy: interactionPolicy.Prompt[]): interactionPolicy.Prompt[] {
  const login = policy.find((prompt) => prompt.name === 'login')
  if (!login) throw new Error('oidc-provider has no login prompt')
  login.checks.unshift(
    new interactionPolicy.Check('offline_access_kept', 'offline_access is asked for on the consent page', async (ctx) => {
      restoreOfflineAccess(ctx)
      return interactionPolicy.Check.NO_NEED_TO_PROMPT
    }),
  )
  return policy
}

function restoreOfflineAccess(ctx: KoaContextWithOIDC): void {
  const { oidc } = ctx
  // Only on the authorization request itself: resumed interactions carry the params saved here.
  if (oidc.route !== 'authorization') return
  const params = oidc.params as { scope?: string; response_type?: string; prompt?: string } | undefined
  if (!params || !requestedScope(ctx).includes(OFFLINE_ACCESS)) return
  const scopes = params.scope?.split(' ') ?? []
  if (scopes.includes(OFFLINE_ACCESS)) return
  const client = oidc.client
  if (!client || !params.response_type?.split(' ').includes('code') || !client.grantTypeAllowed('refresh_token')) return
  if (params.prompt?.split(' ').includes('none')) return
  if (client.scope !== undefined && !client.scope.split(' ').includes(OFFLINE_ACCESS)) return
  params.scope = [...scopes, OFFLINE_ACCESS].join(' ')
}

/** The scope as the client sent it (query for GET, form body for POST), before oidc-provider filtered it. */
function requestedScope(ctx: KoaContextWithOIDC): string[] {
  const source = ctx.method === 'POST' ? (ctx.oidc as { body?: Record<string, unknown> }).body : ctx.query
  const scope = source?.scope
  return typeof scope === 'string' ? scope.split(' ') : []
}
