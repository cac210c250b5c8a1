import { createSecretKey, randomBytes } from 'node:crypto'
import { createLocalJWKSet, jwtVerify } from 'jose'
import { describe, expect, it } from 'vitest'
import { createLocalJwks, signJwt, verifyJwt } from '../src/index.js'
import { createTestKey, nowSeconds } from './support/mint.js'

const claims = () => ({ iss: 'https://exchange.example', aud: 'demo', sub: 'c1', iat: nowSeconds(), exp: nowSeconds() + 60 })

describe('signJwt', () => {
  it.each(['EdDSA', 'ES256', 'ES384', 'ES512', 'RS256', 'PS256'])(
    'signs %s tokens that jose (an independent implementation) and verifyJwt accept',
    async (alg) => {
      const key = createTestKey(alg)
      const token = signJwt({ typ: 'mqtt-broker+jwt', alg: 'none', kid: 'ignored' }, claims(), { kid: key.kid, alg, key: key.privateKey })
      const { protectedHeader } = await jwtVerify(token, createLocalJWKSet({ keys: [key.jwk] }), { issuer: claims().iss, audience: 'demo', algorithms: [alg] })
      expect(protectedHeader).toEqual({ typ: 'mqtt-broker+jwt', alg, kid: key.kid })
      await expect(
        verifyJwt(token, createLocalJwks({ keys: [key.jwk] }), { algorithms: [alg], typ: 'mqtt-broker+jwt', issuer: claims().iss, audience: 'demo' }),
      ).resolves.toBeDefined()
    },
  )

  it('signs HS256 for brokers that only do HMAC (verified by jose with the secret)', async () => {
    const secret = randomBytes(32)
    const token = signJwt({}, claims(), { kid: 'hs', alg: 'HS256', key: createSecretKey(secret) })
    await expect(jwtVerify(token, secret, { algorithms: ['HS256'] })).resolves.toBeDefined()
  })

  it('refuses an algorithm it does not know', () => {
    expect(() => signJwt({}, claims(), { kid: 'x', alg: 'none', key: createSecretKey(randomBytes(32)) })).toThrow('unsupported signing alg none')
  })
})
