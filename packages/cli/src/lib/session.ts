import type { Configuration } from 'openid-client'
import { createTokenStore } from '@mqtt-oidc/client'
import type { TokenStore } from '@mqtt-oidc/client'
import { discoverIssuer } from '@mqtt-oidc/client'
import { exchangeToken } from '@mqtt-oidc/client'
import type { BrokerToken } from '@mqtt-oidc/client'
import { getIdToken } from '@mqtt-oidc/client'
import type { Settings } from './settings.js'

export interface Session {
  readonly config: Configuration
  readonly store: TokenStore
}

/** The IdP configuration and the token store for the current settings. */
export async function openSession(s: Settings): Promise<Session> {
  return { config: await discoverIssuer(s.issuer, s.clientId, { cacheDir: s.configDir, fetchFrom: s.fetchFrom.issuer }), store: createTokenStore(s.configDir) }
}

/** A fresh broker token: a valid (refreshed if needed) ID token, exchanged for `broker`. */
export async function fetchBrokerToken(s: Settings, session: Session, broker: string): Promise<BrokerToken> {
  const subjectToken = await getIdToken(session.config, session.store)
  return exchangeToken({ exchangeUrl: s.exchangeUrl, fetchFrom: s.fetchFrom.exchange, broker, subjectToken })
}
