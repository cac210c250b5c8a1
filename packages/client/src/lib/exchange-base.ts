import { parseFetchFrom } from './fetch-from.js'
import { parseSecureUrl } from './urls.js'

/** The base URL requests for the exchange at `exchangeUrl` go to: `fetchFrom` when given (checked against `exchangeUrl`, see parseFetchFrom), else `exchangeUrl`. */
export function exchangeBase(exchangeUrl: string, fetchFrom: string | undefined): URL {
  const url = parseSecureUrl(exchangeUrl, 'exchange URL')
  return fetchFrom === undefined ? url : parseFetchFrom(fetchFrom, url, 'exchange fetch-from URL')
}
