import * as oidc from 'openid-client'
import type { Configuration } from 'openid-client'
import { ADMIN_SCOPE } from '@mqtt-oidc/core'
import type { AdminCredentials } from '../create-admin-client.js'
import { discoverIssuer } from '../discover-issuer.js'

/** An admin access token for one resource (an admin API), fetched and cached until shortly before it expires. */
export interface AdminBearer {
  get(): Promise<string>
  /** Drops the cached token (after a 401): the next get() fetches a new one. */
  forget(): void
}

/**
 * The admin client's client credentials grant (`client_secret_basic`, scope
 * `mqtt-oidc:admin`) for `resource`: the exchange URL for the exchange's
 * admin API, the issuer for the IdP's own. `fetchFrom`: where the IdP's
 * requests go when its public issuer URL is not reachable from here (see
 * discoverIssuer).
 */
export function createAdminBearer(creds: AdminCredentials, resource: string, fetchFrom?: string): AdminBearer {
  let config: Promise<Configuration> | undefined
  let cached: { token: string; until: number } | undefined
  const discover = (): Promise<Configuration> => {
    if (config === undefined) {
      config = discoverIssuer(creds.issuer, creds.clientId, { clientSecret: creds.clientSecret, fetchFrom })
      config.catch(() => {
        config = undefined // retry discovery next time
      })
    }
    return config
  }
  return {
    async get() {
      if (cached && Date.now() < cached.until) return cached.token
      const res = await oidc.clientCredentialsGrant(await discover(), { scope: ADMIN_SCOPE, resource })
      const lifetime = res.expiresIn() ?? 60
      cached = { token: res.access_token, until: Date.now() + Math.max(lifetime - 30, lifetime / 2) * 1000 }
      return res.access_token
    },
    forget() {
      cached = undefined
    },
  }
}
