import { createPublicKey, generateKeyPair } from 'node:crypto'
import type { KeyObject } from 'node:crypto'
import { promisify } from 'node:util'
import type { KeyRecord, SigningAlg } from './key-record.js'
import { jwkThumbprint } from './lib/jwk-thumbprint.js'

const generate = promisify(generateKeyPair)

/**
 * A new private key for `alg` as a key record that starts signing at
 * `activatesAt`: Ed25519 for EdDSA, P-256 for ES256, 2048-bit RSA for
 * RS256/PS256. Generated off the event loop; the `kid` is the RFC 7638
 * thumbprint, so the same key always has the same kid.
 *
 * @example await store.keys.add(await generateSigningKey('EdDSA', { owner: 'exchange', activatesAt: now }))
 */
export async function generateSigningKey<Owner extends string>(
  alg: SigningAlg,
  options: { readonly owner: Owner; readonly activatesAt: number },
): Promise<KeyRecord<Owner>> {
  const { privateKey } = await pair(alg)
  const jwk = privateKey.export({ format: 'jwk' }) as Record<string, unknown>
  const kid = jwkThumbprint(createPublicKey(privateKey).export({ format: 'jwk' }))
  return { kid, alg, owner: options.owner, privateJwk: { ...jwk, kid, alg, use: 'sig' }, createdAt: options.activatesAt, retiredAt: null }
}

function pair(alg: SigningAlg): Promise<{ privateKey: KeyObject }> {
  switch (alg) {
    case 'EdDSA':
      return generate('ed25519')
    case 'ES256':
      return generate('ec', { namedCurve: 'P-256' })
    case 'RS256':
    case 'PS256':
      return generate('rsa', { modulusLength: 2048 })
  }
}
