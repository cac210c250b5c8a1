import { refusalFor } from '@mqtt-oidc/core'
import type { BrokerTokenClaims } from '@mqtt-oidc/core'
import type { Verifier } from '@mqtt-oidc/broker-auth'

/** The same verifier, telling `onVerify` how each token fared: the refusal code, undefined when valid (metrics). */
export function observeVerifier(verifier: Verifier, onVerify: (code: string | undefined) => void): Verifier {
  const valid = (claims: BrokerTokenClaims): BrokerTokenClaims => {
    onVerify(undefined)
    return claims
  }
  const refused = (err: unknown): never => {
    onVerify(refusalFor(err).code)
    throw err
  }
  return {
    verify: (token) => verifier.verify(token).then(valid, refused),
    verifyIfKeysHeld(token) {
      let claims: BrokerTokenClaims | undefined
      try {
        claims = verifier.verifyIfKeysHeld(token)
      } catch (err) {
        return refused(err)
      }
      return claims && valid(claims)
    },
    get keys() {
      return verifier.keys
    },
    close: () => verifier.close(),
  }
}
