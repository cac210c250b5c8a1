import type { TokenStoreKey } from '../create-token-store.js'

/** `${issuer}|${clientId}`, the issuer normalised (`http://h:4000/` and `http://h:4000` are one login). */
export function storeKey(key: TokenStoreKey): string {
  let issuer = key.issuer
  try {
    issuer = new URL(key.issuer).href
  } catch {
    // not a URL: use as given
  }
  return `${issuer.replace(/\/+$/, '')}|${key.clientId}`
}
