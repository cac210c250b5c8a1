import type { Configuration } from 'openid-client'
import { createTokenStore } from '../../create-token-store.js'
import type { TokenStore } from '../../create-token-store.js'
import { discoverIssuer } from '../../discover-issuer.js'
import { exchangeToken } from '../../exchange-token.js'
import type { BrokerToken } from '../../exchange-token.js'
import { getIdToken } from '../../get-id-token.js'
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
