import { isRecord } from './is-record.js'
import { exchangeBase } from './exchange-base.js'
import { endpointUrl } from './urls.js'

/**
 * The jtis the exchange lists as revoked for `broker`, from its public
 * revocation feed (`GET /brokers/:id/revocations`, no credentials: it
 * carries only jtis). Used to tell a revoked token from other refusals.
 * `fetchFrom`: see exchangeToken.
 */
export async function fetchRevokedJtis(exchangeUrl: string, broker: string, signal?: AbortSignal, fetchFrom?: string): Promise<Set<string>> {
  const url = endpointUrl(exchangeBase(exchangeUrl, fetchFrom), `/brokers/${encodeURIComponent(broker)}/revocations`)
  const res = await fetch(url, { headers: { accept: 'application/json' }, redirect: 'error', signal: signal ?? AbortSignal.timeout(10_000) })
  if (!res.ok) throw new Error(`revocation feed answered HTTP ${res.status}`)
  const body: unknown = await res.json()
  const list = isRecord(body) && Array.isArray(body.revoked) ? body.revoked : []
  return new Set(list.flatMap((r: unknown) => (isRecord(r) && typeof r.jti === 'string' ? [r.jti] : [])))
}
