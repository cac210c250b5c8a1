import { matchingKeys, parseJwks } from './lib/parse-jwks.js'
import type { KeySource } from './types.js'

/**
 * A JWKS held in memory (a configuration file, a test) as a key source,
 * under the same import rules as createRemoteJwks: no private or `oct` keys,
 * RSA of 2048 bits or more, curves that fit their algs. Throws a TypeError
 * when the document holds no usable key.
 *
 * @example const keys = createLocalJwks({ keys: [publicJwk] })
 */
export function createLocalJwks(jwks: unknown, label = 'the issuer'): KeySource {
  const keys = parseJwks(jwks)
  return {
    label,
    lookup(kid, alg) {
      const found = matchingKeys(keys, kid, alg)
      return found.length > 0 ? found : undefined
    },
    async keysFor(kid, alg) {
      return matchingKeys(keys, kid, alg)
    },
  }
}
