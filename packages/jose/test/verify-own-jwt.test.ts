import { createHmac, createSecretKey, randomBytes } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { signJwt, verifyOwnJwt } from '../src/index.js'
import type { SigningKey } from '../src/index.js'
import { createTestKey, nowSeconds } from './support/mint.js'

const claims = { iss: 'https://exchange.example', aud: 'demo', sub: 'c1', jti: 'j1', exp: nowSeconds() - 3600 }
const ed = createTestKey('EdDSA')
const edKey: SigningKey = { kid: ed.kid, alg: 'EdDSA', key: ed.privateKey }
const hsKey: SigningKey = { kid: 'hs256.demo.1', alg: 'HS256', key: createSecretKey(randomBytes(32)) }
const ours = new Map([
  [edKey.kid, edKey],
  [hsKey.kid, hsKey],
])
const keyFor = (kid: string): SigningKey | undefined => ours.get(kid)
const b64 = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url')

describe('verifyOwnJwt: tokens this service signed itself', () => {
  it("accepts its own EdDSA and HS256 tokens, expired ones too (claims are the caller's)", () => {
    expect(verifyOwnJwt(signJwt({ typ: 'mqtt-broker+jwt' }, claims, edKey), keyFor, 'broker token')).toEqual(claims)
    expect(verifyOwnJwt(signJwt({ typ: 'mqtt-broker+jwt' }, claims, hsKey), keyFor, 'broker token')).toEqual(claims)
  })

  it("refuses a kid it does not hold, and an alg other than its key's (HS256 under an EdDSA kid)", () => {
    const stranger = createTestKey('EdDSA')
    expect(() => verifyOwnJwt(signJwt({}, claims, { kid: stranger.kid, alg: 'EdDSA', key: stranger.privateKey }), keyFor, 'broker token')).toThrow(
      expect.objectContaining({ code: 'ERR_TOKEN_SIGNATURE' }),
    )
    // an attacker who knows our public key uses it as an HMAC secret: the kid's key is EdDSA, so no
    const forged = signJwt({}, claims, { kid: edKey.kid, alg: 'HS256', key: createSecretKey(Buffer.from(JSON.stringify(ed.jwk))) })
    expect(() => verifyOwnJwt(forged, keyFor, 'broker token')).toThrow(expect.objectContaining({ code: 'ERR_TOKEN_SIGNATURE' }))
  })

  it('refuses a changed payload, a token without a signature, alg none, crit and a payload naming a member twice', () => {
    const [h, , s] = signJwt({}, claims, hsKey).split('.')
    const changed = `${h}.${b64({ ...claims, sub: 'c2' })}.${s}`
    expect(() => verifyOwnJwt(changed, keyFor, 'broker token')).toThrow(expect.objectContaining({ code: 'ERR_TOKEN_SIGNATURE' }))
    expect(() => verifyOwnJwt(`${h}.${b64(claims)}.`, keyFor, 'broker token')).toThrow(expect.objectContaining({ code: 'ERR_TOKEN_MALFORMED' }))
    expect(() => verifyOwnJwt(`${b64({ alg: 'none', kid: hsKey.kid })}.${b64(claims)}.x`, keyFor, 'broker token')).toThrow(
      expect.objectContaining({ code: 'ERR_TOKEN_ALG_NOT_ALLOWED' }),
    )
    expect(() => verifyOwnJwt(signJwt({ crit: ['exp'] }, claims, hsKey), keyFor, 'broker token')).toThrow(
      expect.objectContaining({ code: 'ERR_TOKEN_MALFORMED' }),
    )
    const twice = `${b64({ alg: 'HS256', kid: hsKey.kid })}.${Buffer.from('{"sub":"a","sub":"b"}').toString('base64url')}`
    const signed = `${twice}.${createHmac('sha256', hsKey.key).update(twice).digest('base64url')}`
    expect(() => verifyOwnJwt(signed, keyFor, 'broker token')).toThrow(
      expect.objectContaining({ code: 'ERR_TOKEN_MALFORMED', claim: 'sub', reason: 'duplicate' }),
    )
  })
})
