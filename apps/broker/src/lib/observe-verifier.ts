import { refusalFor } from '@mqtt-oidc/core'
import type { Verifier } from '@mqtt-oidc/broker-auth'

/** The same verifier, telling `onVerify` how each token fared: the refusal code, undefined when valid (metrics). */
export function observeVerifier(verifier: Verifier, onVerify: (code: string | undefined) => void): Verifier {
  return {
    verify: (token) =>
      verifier.verify(token).then(
        (claims) => {
          onVerify(undefined)
          return claims
        },
        (err: unknown) => {
          onVerify(refusalFor(err).code)
          throw err
        },
      ),
    get keys() {
      return verifier.keys
    },
    close: () => verifier.close(),
  }
}
