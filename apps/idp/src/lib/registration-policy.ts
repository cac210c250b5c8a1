import type { KoaContextWithOIDC } from 'oidc-provider'
import { errors } from 'oidc-provider'
import { clientFromMetadata } from './client-metadata.js'
import { clientProblems, DEFAULT_CLIENT_SCOPE } from './client-registration.js'

/** The policy every initial access token carries (features.registration.policies). */
export const REGISTRATION_POLICY = 'mqtt-oidc-client'

/**
 * RFC 7591 registration under the same rules as the admin API: the defaults
 * a client of this IdP gets (a native app is public; every sign-in scope),
 * and a refusal (invalid_client_metadata) naming everything this IdP does
 * not allow. oidc-provider then validates the metadata itself.
 */
export async function registrationPolicy(_ctx: KoaContextWithOIDC, properties: Record<string, unknown>): Promise<void> {
  if (properties.application_type === 'native' && properties.token_endpoint_auth_method === undefined) {
    properties.token_endpoint_auth_method = 'none'
    delete properties.client_secret
    delete properties.client_secret_expires_at
  }
  properties.scope ??= DEFAULT_CLIENT_SCOPE
  const problems = clientProblems(clientFromMetadata(String(properties.client_id), properties, 0))
  if (problems.length > 0) throw new errors.InvalidClientMetadata(problems.join('; '))
}
