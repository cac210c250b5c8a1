import { isRecord } from '@mqtt-oidc/core'
import { exchangeBase } from './lib/exchange-base.js'
import { endpointUrl } from './lib/urls.js'

/**
 * Whether the exchange lists this broker token as revoked, asked with the
 * token itself (`GET /brokers/:id/token-status`, `Authorization: Bearer
 * <token>`): a token holder learns about its own jti only; the broker's
 * revocation feed needs the broker's own credential. Used to tell a revoked
 * token from other refusals. `fetchFrom`: see exchangeToken.
 */
export async function fetchTokenRevoked(exchangeUrl: string, broker: string, token: string, signal?: AbortSignal, fetchFrom?: string): Promise<boolean> {
  const url = endpointUrl(exchangeBase(exchangeUrl, fetchFrom), `/brokers/${encodeURIComponent(broker)}/token-status`)
  const res = await fetch(url, {
    headers: { accept: 'application/json', authorization: `Bearer ${token}` },
    redirect: 'error',
    signal: signal ?? AbortSignal.timeout(10_000),
  })
  if (!res.ok) throw new Error(`token status answered HTTP ${res.status}`)
  const body: unknown = await res.json()
  return isRecord(body) && body.revoked === true
}
