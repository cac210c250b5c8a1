import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { generateKeyPairSync } from 'node:crypto'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import {
  DEFAULT_CLOCK_TOLERANCE,
  ID_TOKEN_TYP,
  MAX_NUMERIC_DATE,
  createJwtVerifier,
  createLocalJwks,
  createRemoteJwks,
  decodeJws,
  verifyJwt,
} from '../src/index.js'
import type { JwtVerifier, KeySource, RemoteJwks, RemoteJwksOptions } from '../src/index.js'
import { b64, createTestKey, nowSeconds, rawSignature, refusal } from './support/mint.js'
import type { TestKey } from './support/mint.js'
import { startJwksServer } from './support/jwks-server.js'
import type { JwksServer } from './support/jwks-server.js'

// The one suite of attacks on the JOSE core. The exchange (subject and admin
// tokens) and the brokers (broker tokens) verify through exactly this code,
// so each attack is refused here once for all of them.

const ISS = 'https://exchange.example'
const AUD = 'demo'
const BROKER_TYP = 'mqtt-broker+jwt'

let server: JwksServer
let jwks: RemoteJwks
let ed: TestKey
let es: TestKey
let rs: TestKey
let ps: TestKey
let broker: JwtVerifier

const claims = (extra: Record<string, unknown> = {}): Record<string, unknown> => {
  const now = nowSeconds()
  return { iss: ISS, aud: AUD, sub: 'c1', jti: 'j1', iat: now, nbf: now, exp: now + 300, ...extra }
}
const verify = (token: string) => refusal(broker.verify(token))

beforeAll(async () => {
  ;[ed, es, rs, ps] = [createTestKey('EdDSA'), createTestKey('ES256'), createTestKey('RS256'), createTestKey('PS256')]
  server = await startJwksServer([ed.jwk, es.jwk, rs.jwk, ps.jwk])
  jwks = createRemoteJwks({ jwksUri: server.url, label: 'the exchange' })
  broker = createJwtVerifier(jwks, { algorithms: ['EdDSA', 'ES256', 'RS256', 'PS256'], typ: BROKER_TYP, issuer: ISS, audience: AUD })
})
afterAll(async () => {
  jwks.close()
  await server.close()
})

describe('accepted tokens', () => {
  it.each(['EdDSA', 'ES256', 'RS256', 'PS256'])('verifies %s from the JWKS and resolves with header, payload and the key', async (alg) => {
    const key = { EdDSA: ed, ES256: es, RS256: rs, PS256: ps }[alg]!
    const { header, payload } = await broker.verify(key.sign(claims()))
    expect(header).toEqual({ alg, kid: key.kid, typ: BROKER_TYP })
    expect(payload).toMatchObject({ iss: ISS, aud: AUD, sub: 'c1' })
  })
})

describe('alg attacks', () => {
  it.each(['none', 'NONE', 'None', 'nOnE'])('refuses alg %s, signed or not', async (alg) => {
    const h = JSON.stringify({ alg, kid: ed.kid, typ: BROKER_TYP })
    const unsigned = `${b64(h)}.${b64(JSON.stringify(claims()))}.`
    expect(await verify(unsigned)).toEqual({ code: 'ERR_TOKEN_ALG_NOT_ALLOWED', claim: 'alg', reason: 'check_failed' })
    expect(await verify(`${unsigned}${b64('x')}`)).toMatchObject({ code: 'ERR_TOKEN_ALG_NOT_ALLOWED' })
  })

  it('refuses HS256 signed with the public key as the HMAC secret (SPKI PEM, DER, JWK JSON, raw x)', async () => {
    const spki = ed.publicKey.export({ format: 'pem', type: 'spki' })
    const secrets = [
      Buffer.from(spki),
      ed.publicKey.export({ format: 'der', type: 'spki' }),
      Buffer.from(JSON.stringify(ed.jwk)),
      Buffer.from(String(ed.jwk.x), 'base64url'),
    ]
    for (const secret of secrets) {
      const input = `${b64(JSON.stringify({ alg: 'HS256', kid: ed.kid, typ: BROKER_TYP }))}.${b64(JSON.stringify(claims()))}`
      const { createSecretKey } = await import('node:crypto')
      expect(await verify(`${input}.${rawSignature('HS256', createSecretKey(secret), input)}`)).toMatchObject({
        code: 'ERR_TOKEN_ALG_NOT_ALLOWED',
        claim: 'alg',
      })
    }
  })

  it('refuses an alg the caller did not allow, even when its key is in the JWKS', async () => {
    const edOnly = createJwtVerifier(jwks, { algorithms: ['EdDSA'], typ: BROKER_TYP, issuer: ISS, audience: AUD })
    expect(await refusal(edOnly.verify(es.sign(claims())))).toMatchObject({ code: 'ERR_TOKEN_ALG_NOT_ALLOWED' })
    await expect(edOnly.verify(ed.sign(claims()))).resolves.toBeDefined()
  })

  it('refuses a missing or non-string alg', async () => {
    expect(await verify(ed.sign(claims(), { alg: undefined }))).toEqual({ code: 'ERR_TOKEN_ALG_NOT_ALLOWED', claim: 'alg', reason: 'missing' })
    expect(await verify(ed.signText(`{"alg":["EdDSA"],"kid":"${ed.kid}","typ":"${BROKER_TYP}"}`, JSON.stringify(claims())))).toMatchObject({
      code: 'ERR_TOKEN_ALG_NOT_ALLOWED',
    })
  })

  it('cannot be configured with none, HS*, an unknown alg or no alg at all (a TypeError at once)', () => {
    const base = { typ: BROKER_TYP, issuer: ISS, audience: AUD }
    for (const algorithms of [['none'], ['EdDSA', 'NONE'], ['HS256'], ['hs512'], ['EdDSA', 'XX256'], []]) {
      expect(() => createJwtVerifier(jwks, { ...base, algorithms })).toThrow(TypeError)
      expect(() => decodeJws(ed.sign(claims()), { algorithms })).toThrow(TypeError)
    }
  })
})

describe('keys that do not fit', () => {
  const NO_KEY = /^token is not signed by a known key of the issuer$/
  const local = (jwk: Record<string, unknown>): KeySource => createLocalJwks({ keys: [jwk, ed.jwk] })
  const only = (keys: KeySource, algorithms: string[]) => createJwtVerifier(keys, { algorithms, typ: BROKER_TYP, issuer: ISS, audience: AUD })

  it('never verifies an ES256 token with a P-384 key, nor an ES384 token with a P-256 key', async () => {
    const p384 = createTestKey('ES384')
    const p384AsEs256 = { ...p384.jwk, alg: undefined, kid: 'k' }
    const token = createTestKey('ES256', { kid: 'k', pair: { privateKey: p384.privateKey, publicKey: p384.publicKey } }).sign(claims())
    await expect(only(local(p384AsEs256), ['ES256']).verify(token)).rejects.toThrow(NO_KEY)
  })

  it('never takes an RSA key under 2048 bits', async () => {
    const weak = generateKeyPairSync('rsa', { modulusLength: 1024 })
    const key = createTestKey('RS256', { kid: 'weak', pair: weak })
    const verifier = only(createLocalJwks({ keys: [key.jwk, ed.jwk] }), ['RS256'])
    await expect(verifier.verify(key.sign(claims()))).rejects.toThrow(NO_KEY)
    expect(() => createLocalJwks({ keys: [key.jwk] })).toThrow('no usable signature key')
  })

  it("never verifies with a key of another type under the same kid, nor against the JWK's own alg", async () => {
    const rsaWithEdKid = { ...rs.jwk, kid: ed.kid, alg: undefined }
    const forged = createTestKey('RS256', { kid: ed.kid, pair: { privateKey: rs.privateKey, publicKey: rs.publicKey } })
    await expect(only(createLocalJwks({ keys: [ed.jwk, { ...rsaWithEdKid, alg: 'PS256' }] }), ['RS256']).verify(forged.sign(claims()))).rejects.toThrow(NO_KEY)
    await expect(only(createLocalJwks({ keys: [ed.jwk, rsaWithEdKid] }), ['RS256']).verify(forged.sign(claims()))).resolves.toBeDefined()
  })

  it('never takes a private or oct JWK from a JWKS', async () => {
    const secret = createTestKey('EdDSA', { kid: 'priv' })
    const privateJwk = { ...(secret.privateKey.export({ format: 'jwk' }) as Record<string, unknown>), kid: 'priv', alg: 'EdDSA' }
    await expect(only(local(privateJwk), ['EdDSA']).verify(secret.sign(claims()))).rejects.toThrow(NO_KEY)
    expect(() => createLocalJwks({ keys: [privateJwk, { kty: 'oct', k: 'c2VjcmV0', kid: 'h' }] })).toThrow('no usable signature key')
  })

  it('skips keys marked for another use', async () => {
    expect(() =>
      createLocalJwks({
        keys: [
          { ...ed.jwk, use: 'enc' },
          { ...ed.jwk, key_ops: ['encrypt'] },
        ],
      }),
    ).toThrow('no usable signature key')
  })

  it('refuses a token whose signature does not verify, and an ES256 signature of the wrong length', async () => {
    const [h, , s] = ed.sign(claims()).split('.')
    await expect(broker.verify(`${h}.${b64(JSON.stringify(claims({ sub: 'admin' })))}.${s}`)).rejects.toThrow(/^token signature is invalid$/)
    const [eh, ep, esig] = es.sign(claims()).split('.')
    expect(await verify(`${eh}.${ep}.${Buffer.concat([Buffer.from(esig!, 'base64url'), Buffer.alloc(1)]).toString('base64url')}`)).toEqual({
      code: 'ERR_TOKEN_SIGNATURE',
    })
  })

  it('does not read the payload of a token whose signature fails', async () => {
    const [h, , s] = ed.sign(claims()).split('.')
    expect(await verify(`${h}.${b64('{"iss": not json')}.${s}`)).toEqual({ code: 'ERR_TOKEN_SIGNATURE' })
  })

  it('tries every key that fits a token without kid (and only those)', async () => {
    const twin = createTestKey('EdDSA')
    const keys = createLocalJwks({ keys: [ed.jwk, twin.jwk, es.jwk] })
    await expect(only(keys, ['EdDSA']).verify(twin.sign(claims(), { kid: undefined }))).resolves.toBeDefined()
    expect(await refusal(only(keys, ['EdDSA']).verify(createTestKey('EdDSA').sign(claims(), { kid: undefined })))).toEqual({ code: 'ERR_TOKEN_SIGNATURE' })
  })
})

describe('header attacks', () => {
  const payload = (): string => JSON.stringify(claims())
  const header = (extra: string): string => `{"alg":"EdDSA","kid":"${ed.kid}","typ":"${BROKER_TYP}"${extra}}`

  it('refuses crit, whatever it names', async () => {
    for (const extra of [',"crit":["exp"],"exp":1', ',"crit":[]', ',"crit":["b64"],"b64":false']) {
      expect(await verify(ed.signText(header(extra), payload()))).toEqual({ code: 'ERR_TOKEN_MALFORMED', claim: 'crit', reason: 'unsupported' })
    }
  })

  it('refuses b64, false or true (an unencoded payload is not a JWT)', async () => {
    for (const extra of [',"b64":false', ',"b64":true']) {
      expect(await verify(ed.signText(header(extra), payload()))).toEqual({ code: 'ERR_TOKEN_MALFORMED', claim: 'b64', reason: 'unsupported' })
    }
  })

  it('refuses a kid that is not a string', async () => {
    for (const kid of ['1', '{"a":1}', '["x"]', 'null']) {
      expect(await verify(ed.signText(`{"alg":"EdDSA","kid":${kid},"typ":"${BROKER_TYP}"}`, payload()))).toEqual({
        code: 'ERR_TOKEN_MALFORMED',
        claim: 'kid',
        reason: 'invalid',
      })
    }
  })

  it('refuses a header naming a parameter twice, also when escaped', async () => {
    expect(await verify(ed.signText(`{"alg":"none","alg":"EdDSA","kid":"${ed.kid}","typ":"${BROKER_TYP}"}`, payload()))).toEqual({
      code: 'ERR_TOKEN_MALFORMED',
      claim: 'alg',
      reason: 'duplicate',
    })
    expect(await verify(ed.signText(header(',"\\u0074yp":"JWT"'), payload()))).toEqual({ code: 'ERR_TOKEN_MALFORMED', claim: 'typ', reason: 'duplicate' })
  })

  it('ignores jku, x5u, jwk and x5c: keys come from the configured JWKS only', async () => {
    const attacker = createTestKey('EdDSA', { kid: ed.kid })
    let hits = 0
    const evil = createServer((_req, res) => {
      hits++
      res.end(JSON.stringify({ keys: [attacker.jwk] }))
    })
    await new Promise<void>((resolve) => evil.listen(0, '127.0.0.1', resolve))
    const url = `http://127.0.0.1:${(evil.address() as AddressInfo).port}/`
    try {
      const { kid: _k, alg: _a, use: _u, ...embedded } = attacker.jwk
      const token = attacker.sign(claims(), { jku: url, x5u: url, jwk: embedded, x5c: ['MIIB'] })
      expect(await verify(token)).toEqual({ code: 'ERR_TOKEN_SIGNATURE' })
      expect(hits).toBe(0)
    } finally {
      evil.closeAllConnections()
      await new Promise((resolve) => evil.close(resolve))
    }
  })
})

describe('payload attacks', () => {
  const header = `{"alg":"EdDSA","kid":"PLACEHOLDER","typ":"${BROKER_TYP}"}`
  const signPayload = (text: string): string => ed.signText(header.replace('PLACEHOLDER', ed.kid), text)
  const base = (): string => JSON.stringify(claims()).slice(0, -1)

  it('refuses a claim named twice: at the top, nested, escaped, with whitespace', async () => {
    await expect(broker.verify(signPayload(`${base()}}`))).resolves.toBeDefined()
    expect(await verify(signPayload(`${base()},"sub":"victim"}`))).toEqual({ code: 'ERR_TOKEN_MALFORMED', claim: 'sub', reason: 'duplicate' })
    expect(await verify(signPayload(`${base()},"acl":{"pub":[],"sub":[] , "pub" :["#"]}}`))).toEqual({
      code: 'ERR_TOKEN_MALFORMED',
      claim: 'pub',
      reason: 'duplicate',
    })
    expect(await verify(signPayload(`${base()},"\\u0061ud":"other"}`))).toEqual({ code: 'ERR_TOKEN_MALFORMED', claim: 'aud', reason: 'duplicate' })
    expect(await verify(signPayload(`${base()},"list":[{"a":1,"a":2}]}`))).toEqual({ code: 'ERR_TOKEN_MALFORMED', claim: 'a', reason: 'duplicate' })
  })

  it('tells member names from strings that look like them', async () => {
    const tricky = `${base()},"note":"\\"sub\\": \\"x\\"","list":["a",":","\\\\"],"o":{"k":"v\\\\"}}`
    await expect(broker.verify(signPayload(tricky))).resolves.toMatchObject({ payload: { note: '"sub": "x"', list: ['a', ':', '\\'] } })
  })

  it('refuses a payload that is not a UTF-8 JSON object', async () => {
    const key = ed.kid
    const input = (bytes: Buffer): string => `${b64(header.replace('PLACEHOLDER', key))}.${bytes.toString('base64url')}`
    const signed = (bytes: Buffer): string => `${input(bytes)}.${rawSignature('EdDSA', ed.privateKey, input(bytes))}`
    expect(await verify(signed(Buffer.from([0x7b, 0x22, 0xff, 0x22, 0x3a, 0x31, 0x7d])))).toEqual({ code: 'ERR_TOKEN_MALFORMED' })
    // inside a claim of an otherwise good payload (JSON.parse would take the decoder's U+FFFD):
    // a stray byte, an overlong '/', an encoded surrogate, a sequence cut short
    const withSub = (bytes: number[]): Buffer => Buffer.concat([Buffer.from(`${base()},"name":"`), Buffer.from(bytes), Buffer.from('"}')])
    for (const bad of [[0x80], [0xc0, 0xaf], [0xed, 0xa0, 0x80], [0xe2, 0x82]]) {
      await expect(broker.verify(signed(withSub(bad)))).rejects.toThrow('payload is not UTF-8')
    }
    // a real U+FFFD (EF BF BD) is UTF-8
    await expect(broker.verify(signed(withSub([0xef, 0xbf, 0xbd])))).resolves.toMatchObject({ payload: { name: '\uFFFD' } })
    for (const text of ['[1,2]', '"a string"', 'null', '42', '{"iss":', ''])
      expect(await verify(signed(Buffer.from(text)))).toEqual({ code: 'ERR_TOKEN_MALFORMED' })
  })
})

describe('claim rules', () => {
  const now = nowSeconds()
  const tol = DEFAULT_CLOCK_TOLERANCE
  const at = (token: string, t: number) => refusal(broker.verify(token, t))

  it.each([
    ['another issuer', { iss: 'https://evil.example' }, { code: 'ERR_TOKEN_ISSUER', claim: 'iss', reason: 'check_failed' }],
    ['no issuer', { iss: undefined }, { code: 'ERR_TOKEN_ISSUER', claim: 'iss', reason: 'missing' }],
    ['an issuer that is not a string', { iss: [ISS] }, { code: 'ERR_TOKEN_ISSUER', claim: 'iss', reason: 'invalid' }],
    ['no aud', { aud: undefined }, { code: 'ERR_TOKEN_AUDIENCE', claim: 'aud', reason: 'missing' }],
    ['another aud', { aud: 'other' }, { code: 'ERR_TOKEN_AUDIENCE', claim: 'aud', reason: 'check_failed' }],
    ['aud naming others only', { aud: ['other', 'more'] }, { code: 'ERR_TOKEN_AUDIENCE', claim: 'aud', reason: 'check_failed' }],
    ['aud naming this one and others', { aud: [AUD, 'other'] }, { code: 'ERR_TOKEN_CLAIMS', claim: 'aud', reason: 'check_failed' }],
    ['an empty aud list', { aud: [] }, { code: 'ERR_TOKEN_AUDIENCE', claim: 'aud', reason: 'invalid' }],
    ['aud not strings', { aud: [AUD, 7] }, { code: 'ERR_TOKEN_AUDIENCE', claim: 'aud', reason: 'invalid' }],
    ['aud a number', { aud: 7 }, { code: 'ERR_TOKEN_AUDIENCE', claim: 'aud', reason: 'invalid' }],
    ['sub not a string', { sub: 12 }, { code: 'ERR_TOKEN_CLAIMS', claim: 'sub', reason: 'invalid' }],
    ['exp not a number', { exp: 'soon' }, { code: 'ERR_TOKEN_CLAIMS', claim: 'exp', reason: 'invalid' }],
    ['a negative iat', { iat: -1 }, { code: 'ERR_TOKEN_CLAIMS', claim: 'iat', reason: 'invalid' }],
    ['exp in milliseconds', { exp: (now + 300) * 1000 }, { code: 'ERR_TOKEN_CLAIMS', claim: 'exp', reason: 'invalid' }],
    ['nbf in milliseconds', { nbf: now * 1000 }, { code: 'ERR_TOKEN_CLAIMS', claim: 'nbf', reason: 'invalid' }],
    ['iat in milliseconds', { iat: now * 1000 }, { code: 'ERR_TOKEN_CLAIMS', claim: 'iat', reason: 'invalid' }],
    ['exp at the milliseconds bound', { exp: MAX_NUMERIC_DATE }, { code: 'ERR_TOKEN_CLAIMS', claim: 'exp', reason: 'invalid' }],
  ])('refuses %s', async (_name, extra, expected) => {
    expect(await verify(ed.sign(claims(extra)))).toEqual(expected)
  })

  it('accepts an aud list naming only this audience, and far-future seconds below the bound (9999-12-31)', async () => {
    await expect(broker.verify(ed.sign(claims({ aud: [AUD] })))).resolves.toBeDefined()
    await expect(broker.verify(ed.sign(claims({ exp: 253402300799 })))).resolves.toBeDefined()
  })

  it('exp: expired only beyond the tolerance', async () => {
    const token = ed.sign(claims({ iat: now - 100, nbf: now - 100, exp: now }))
    expect(await at(token, now + tol - 1)).toBe('resolved')
    expect(await at(token, now + tol)).toEqual({ code: 'ERR_TOKEN_EXPIRED', claim: 'exp', reason: 'check_failed' })
  })

  it('nbf: not yet valid only beyond the tolerance', async () => {
    const token = ed.sign(claims({ iat: now - 100, nbf: now + 60 }))
    expect(await at(token, now + 60 - tol)).toBe('resolved')
    expect(await at(token, now + 60 - tol - 1)).toEqual({ code: 'ERR_TOKEN_NOT_YET_VALID', claim: 'nbf', reason: 'check_failed' })
  })

  it('iat: issued in the future only beyond the tolerance', async () => {
    const token = ed.sign(claims({ iat: now + 60, nbf: undefined }))
    expect(await at(token, now + 60 - tol)).toBe('resolved')
    expect(await at(token, now + 60 - tol - 1)).toEqual({ code: 'ERR_TOKEN_NOT_YET_VALID', claim: 'iat', reason: 'check_failed' })
  })

  it('checkTimes re-checks what time alone changes, for a payload verified before (a cache hit)', async () => {
    const { payload } = await broker.verify(ed.sign(claims({ iat: now, nbf: now, exp: now + 10 })), now)
    expect(() => broker.checkTimes(payload, now + 10 + tol - 1)).not.toThrow()
    expect(() => broker.checkTimes(payload, now + 10 + tol)).toThrow(expect.objectContaining({ code: 'ERR_TOKEN_EXPIRED', claim: 'exp' }))
  })

  it('maxTokenAge needs iat and refuses older tokens', async () => {
    const fresh = { algorithms: ['EdDSA'], typ: BROKER_TYP, issuer: ISS, audience: AUD, maxTokenAge: 600 }
    expect(await refusal(verifyJwt(ed.sign(claims({ iat: undefined })), jwks, fresh))).toEqual({ code: 'ERR_TOKEN_CLAIMS', claim: 'iat', reason: 'missing' })
    expect(await refusal(verifyJwt(ed.sign(claims({ iat: now - 600 - tol - 1 })), jwks, { ...fresh, now }))).toEqual({
      code: 'ERR_TOKEN_EXPIRED',
      claim: 'iat',
      reason: 'check_failed',
    })
    expect(await refusal(verifyJwt(ed.sign(claims({ iat: now - 600 })), jwks, { ...fresh, now }))).toBe('resolved')
  })

  it('requiredClaims: a missing one is named', async () => {
    expect(
      await refusal(
        verifyJwt(ed.sign(claims({ exp: undefined })), jwks, {
          algorithms: ['EdDSA'],
          typ: BROKER_TYP,
          issuer: ISS,
          audience: AUD,
          requiredClaims: ['exp', 'sub'],
        }),
      ),
    ).toEqual({ code: 'ERR_TOKEN_CLAIMS', claim: 'exp', reason: 'missing' })
  })

  it('cannot be configured without an issuer or an audience', () => {
    expect(() => createJwtVerifier(jwks, { algorithms: ['EdDSA'], issuer: '', audience: AUD })).toThrow(TypeError)
    expect(() => createJwtVerifier(jwks, { algorithms: ['EdDSA'], issuer: ISS, audience: [] })).toThrow(TypeError)
  })
})

describe('typ: one kind of token is never taken for another', () => {
  let idTokens: JwtVerifier
  beforeAll(() => {
    idTokens = createJwtVerifier(createLocalJwks({ keys: [ed.jwk] }, 'the identity provider'), {
      algorithms: ['EdDSA'],
      ...ID_TOKEN_TYP,
      issuer: ISS,
      audience: 'mqtt-oidc-cli',
      what: 'subject_token',
    })
  })
  const idClaims = (): Record<string, unknown> => claims({ aud: 'mqtt-oidc-cli' })

  it('a broker token is not an ID token, nor an at+jwt or logout+jwt signed by the same key', async () => {
    for (const typ of [BROKER_TYP, 'at+jwt', 'application/at+jwt', 'logout+jwt', 'secevent+jwt']) {
      expect(await refusal(idTokens.verify(ed.sign(idClaims(), { typ })))).toEqual({ code: 'ERR_TOKEN_TYPE', claim: 'typ', reason: 'check_failed' })
    }
  })

  it('an ID token has no typ, or JWT', async () => {
    await expect(idTokens.verify(ed.sign(idClaims(), { typ: undefined }))).resolves.toBeDefined()
    await expect(idTokens.verify(ed.sign(idClaims(), { typ: 'jwt' }))).resolves.toBeDefined()
  })

  it('an ID token is not a broker token', async () => {
    expect(await verify(ed.sign(claims(), { typ: undefined }))).toEqual({ code: 'ERR_TOKEN_TYPE', claim: 'typ', reason: 'missing' })
    expect(await verify(ed.sign(claims(), { typ: 'JWT' }))).toEqual({ code: 'ERR_TOKEN_TYPE', claim: 'typ', reason: 'check_failed' })
    expect(await verify(ed.sign(claims(), { typ: 7 }))).toEqual({ code: 'ERR_TOKEN_TYPE', claim: 'typ', reason: 'invalid' })
  })

  it('compares typ case-insensitively, with or without application/ (RFC 8725)', async () => {
    await expect(broker.verify(ed.sign(claims(), { typ: 'Application/MQTT-Broker+JWT' }))).resolves.toBeDefined()
  })

  it('messages name the token as the caller does, never quoting it', async () => {
    await expect(idTokens.verify(ed.sign(idClaims(), { typ: 'at+jwt' }))).rejects.toThrow(/^subject_token has the wrong typ header$/)
  })
})

describe('structure attacks', () => {
  it.each([
    ['two segments', (t: string) => t.split('.').slice(0, 2).join('.')],
    ['four segments', (t: string) => `${t}.${t.split('.')[2]}`],
    ['an empty header', (t: string) => `.${t.split('.').slice(1).join('.')}`],
    ['an empty signature', (t: string) => `${t.split('.').slice(0, 2).join('.')}.`],
    ['padding', (t: string) => `${t}==`],
    ['base64 (not url) characters', (t: string) => t.replace(/-|_/g, '+') + (t.includes('-') || t.includes('_') ? '' : '+')],
    ['a dangling base64url character', (t: string) => `${t.split('.').slice(0, 2).join('.')}.${'A'.repeat(85)}`],
    ['whitespace', (t: string) => ` ${t}`],
    ...['$', '!', '%', '*', 'é', '\n', ' ', '=', '+', '/', '\u0100'].flatMap(
      (c) =>
        [
          [
            `${JSON.stringify(c)} inside the payload`,
            (t: string) => {
              const [h, p, s] = t.split('.')
              return `${h}.${p!.slice(0, 10)}${c}${p!.slice(11)}.${s}`
            },
          ],
          [
            `${JSON.stringify(c)} inside the signature`,
            (t: string) => {
              const [h, p, s] = t.split('.')
              return `${h}.${p}.${s!.slice(0, 10)}${c}${s!.slice(11)}`
            },
          ],
        ] as Array<[string, (t: string) => string]>,
    ),
    ['not a JWT at all', () => 'not-a-jwt-secret-value'],
  ])('refuses %s as malformed', async (_name, mangle) => {
    expect(await verify(mangle(ed.sign(claims())))).toMatchObject({ code: 'ERR_TOKEN_MALFORMED' })
  })

  it('refuses a token longer than maxTokenLength before parsing anything', async () => {
    const huge = ed.sign(claims({ pad: 'x'.repeat(20_000) }))
    await expect(broker.verify(huge)).rejects.toMatchObject({ code: 'ERR_TOKEN_MALFORMED', message: 'token is longer than 16384 characters' })
    const small = createJwtVerifier(jwks, { algorithms: ['EdDSA'], typ: BROKER_TYP, issuer: ISS, audience: AUD, maxTokenLength: 200 })
    expect(await refusal(small.verify(`${'a'.repeat(150)}.${'b'.repeat(60)}.c`))).toEqual({ code: 'ERR_TOKEN_MALFORMED' })
  })
})

describe('JWKS faults', () => {
  const open: Array<() => Promise<void>> = []
  afterEach(async () => {
    for (const close of open.splice(0)) await close()
  })
  const setup = async (options: Partial<RemoteJwksOptions> = {}) => {
    const endpoint = await startJwksServer([ed.jwk])
    const clock = { ms: Date.now() }
    // the back-off timer runs on real time: kept minutes away unless a test sets it
    const keys = createRemoteJwks({
      jwksUri: endpoint.url,
      label: 'the exchange',
      now: () => clock.ms,
      cooldownMs: 1000,
      backoffMs: 600_000,
      maxBackoffMs: 600_000,
      ...options,
    })
    const v = createJwtVerifier(keys, { algorithms: ['EdDSA', 'ES256'], typ: BROKER_TYP, issuer: ISS, audience: AUD })
    const at = (token: string) => refusal(v.verify(token, clock.ms / 1000))
    open.push(async () => {
      keys.close()
      await endpoint.close()
    })
    return { endpoint, clock, keys, at }
  }

  it('an endpoint answering 500 or garbage before any good fetch: KeysUnavailable, the label in the message', async () => {
    for (const fault of [{ status: 500 }, { raw: '<html>502</html>' }, { raw: '{"keys":"no"}' }, { raw: '{"keys":[{"kty":"oct","k":"c2VjcmV0"}]}' }]) {
      const t = await setup()
      Object.assign(t.endpoint, fault)
      await expect(t.keys.refresh()).resolves.toBe(false)
      expect(await t.at(ed.sign(claims()))).toEqual({ code: 'ERR_KEYS_UNAVAILABLE' })
      await expect(createJwtVerifier(t.keys, { algorithms: ['EdDSA'], issuer: ISS, audience: AUD }).verify(ed.sign(claims()))).rejects.toThrow(
        "the exchange's keys are unavailable",
      )
    }
  })

  it('a hanging endpoint times out', async () => {
    const t = await setup({ timeoutMs: 200 })
    t.endpoint.hang = true
    expect(await t.at(ed.sign(claims()))).toEqual({ code: 'ERR_KEYS_UNAVAILABLE' })
    expect(t.keys.state()).toMatchObject({ failing: true, keys: 0 })
  })

  it('a JWKS larger than maxBytes, or a redirect, is a failed fetch', async () => {
    const t = await setup({ maxBytes: 1000 })
    t.endpoint.keys = Array.from({ length: 20 }, () => ed.jwk)
    expect(await t.keys.refresh()).toBe(false)
    t.endpoint.keys = [ed.jwk]
    t.endpoint.redirect = 'http://127.0.0.1:1/'
    expect(await t.keys.refresh()).toBe(false)
    t.endpoint.redirect = undefined
    expect(await t.keys.refresh()).toBe(true)
  })

  it('stale-if-error: the last good keys verify for maxStaleMs after the last good fetch, then nothing does', async () => {
    const t = await setup({ maxStaleMs: 60_000 })
    expect(await t.at(ed.sign(claims()))).toBe('resolved')
    t.endpoint.status = 503
    t.clock.ms += 30_000
    expect(await t.keys.refresh()).toBe(false)
    expect(await t.at(ed.sign(claims()))).toBe('resolved')
    t.clock.ms += 30_001
    expect(await t.at(ed.sign(claims()))).toEqual({ code: 'ERR_KEYS_UNAVAILABLE' })
    await expect(createJwtVerifier(t.keys, { algorithms: ['EdDSA'], issuer: ISS, audience: AUD }).verify(ed.sign(claims()), t.clock.ms / 1000)).rejects.toThrow(
      "the exchange's keys are unavailable: no good JWKS for over 60 s",
    )
    t.endpoint.status = undefined
    t.clock.ms += 1000
    expect(await t.at(ed.sign(claims()))).toBe('resolved')
  })

  it('an unknown kid refetches once per cooldown, however many arrive at once; a rotated key is found', async () => {
    const t = await setup({ cooldownMs: 30_000 })
    expect(await t.at(ed.sign(claims()))).toBe('resolved')
    t.clock.ms += 30_000
    const before = t.endpoint.requests.length
    const junk = await Promise.all(Array.from({ length: 50 }, (_, i) => t.at(ed.sign(claims(), { kid: `junk-${i}` }))))
    expect(new Set(junk.map((r) => JSON.stringify(r)))).toEqual(new Set([JSON.stringify({ code: 'ERR_TOKEN_SIGNATURE' })]))
    expect(t.endpoint.requests.length - before).toBe(1)
    const rotated = createTestKey('EdDSA')
    t.endpoint.keys = [ed.jwk, rotated.jwk]
    expect(await t.at(rotated.sign(claims()))).toEqual({ code: 'ERR_TOKEN_SIGNATURE' })
    expect(t.endpoint.requests.length - before).toBe(1)
    t.clock.ms += 30_000
    expect(await t.at(rotated.sign(claims()))).toBe('resolved')
    expect(t.endpoint.requests.length - before).toBe(2)
  })

  it('a new kid while the endpoint fails is refused (fail closed), held keys keep working', async () => {
    const t = await setup()
    expect(await t.at(ed.sign(claims()))).toBe('resolved')
    t.endpoint.status = 500
    t.clock.ms += 2000
    const rotated = createTestKey('EdDSA')
    expect(await t.at(rotated.sign(claims()))).toEqual({ code: 'ERR_KEYS_UNAVAILABLE' })
    const hits = t.endpoint.requests.length
    expect(await t.at(rotated.sign(claims()))).toEqual({ code: 'ERR_KEYS_UNAVAILABLE' })
    expect(t.endpoint.requests.length).toBe(hits)
    expect(await t.at(ed.sign(claims()))).toBe('resolved')
  })

  it('retries a failing endpoint on a doubling back-off with jitter, then returns to the refresh interval', async () => {
    for (const [random, factor] of [
      [() => 0, 0.5],
      [() => 0.999999, 1],
    ] as const) {
      // the retries are the timer's own (real time, a few ms each); the log says each planned wait
      const waits: number[] = []
      let fifth: () => void = () => {}
      let recovered: () => void = () => {}
      const fifthFailure = new Promise<void>((resolve) => {
        fifth = resolve
      })
      const back = new Promise<void>((resolve) => {
        recovered = resolve
      })
      const t = await setup({
        backoffMs: 10,
        maxBackoffMs: 40,
        refreshIntervalMs: 600_000,
        random,
        log: (_level, msg, fields) => {
          if (msg === 'JWKS fetch recovered') recovered()
          else if (waits.push(fields?.retry_in_ms as number) === 5) fifth()
        },
      })
      t.endpoint.status = 500
      await t.keys.refresh()
      await fifthFailure
      expect(waits.slice(0, 5)).toEqual([10, 20, 40, 40, 40].map((d) => Math.round(d * factor)))
      t.endpoint.status = undefined
      await back
      const healthy = t.keys.state().nextFetchAt! - t.clock.ms
      expect(healthy).toBeGreaterThanOrEqual(480_000)
      expect(healthy).toBeLessThanOrEqual(600_000)
    }
  })

  it('spreads the refresh timer over 80-100 % of the interval, so a fleet does not refresh in lockstep', async () => {
    const waits = await Promise.all(
      [0, 0.5, 0.999999].map(async (r) => {
        const t = await setup({ refreshIntervalMs: 100_000, random: () => r })
        return t.keys.state().nextFetchAt! - t.clock.ms
      }),
    )
    expect(waits.map(Math.round)).toEqual([80_000, 90_000, 100_000])
  })

  it('revalidates with If-None-Match: a 304 keeps the keys and counts as a good fetch', async () => {
    const t = await setup({ maxStaleMs: 60_000 })
    t.endpoint.etag = '"v1"'
    expect(await t.keys.refresh()).toBe(true)
    t.clock.ms += 50_000
    expect(await t.keys.refresh()).toBe(true)
    expect(t.endpoint.requests.map((r) => r.ifNoneMatch)).toEqual([undefined, '"v1"'])
    t.clock.ms += 50_000
    expect(await t.at(ed.sign(claims()))).toBe('resolved')
  })

  it('finds the JWKS through a locator (OIDC discovery), asked again until it answers', async () => {
    const endpoint = await startJwksServer([ed.jwk])
    let calls = 0
    const keys = createRemoteJwks({
      jwksUri: async () => {
        calls++
        if (calls === 1) throw new Error('discovery down')
        return endpoint.url
      },
      cooldownMs: 0,
      backoffMs: 600_000,
      maxBackoffMs: 600_000,
    })
    try {
      expect(await keys.refresh()).toBe(false)
      expect(await keys.refresh()).toBe(true)
      expect(await keys.refresh()).toBe(true)
      expect(calls).toBe(2)
    } finally {
      keys.close()
      await endpoint.close()
    }
  })
})

describe('decodeJwtPayload (unverified, for routing and display)', () => {
  it("reads a token's payload under the same JSON rules, and nothing but three segments", async () => {
    const { decodeJwtPayload } = await import('../src/index.js')
    expect(decodeJwtPayload(ed.sign(claims()))).toMatchObject({ iss: ISS, sub: 'c1' })
    expect(() => decodeJwtPayload(ed.signText('{"alg":"EdDSA"}', '{"sub":"a","sub":"b"}'))).toThrow('token payload names "sub" more than once')
    for (const bad of ['a.b', 'a.b.c.d', `x.${b64('{}')}=.y`])
      expect(() => decodeJwtPayload(bad, 'subject_token')).toThrow('subject_token is not a well-formed signed JWT')
  })
})
