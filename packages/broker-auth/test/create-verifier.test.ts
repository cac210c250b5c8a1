import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { SignJWT } from 'jose'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { EMPTY_ACL } from '@mqtt-oidc/core'
import { brokerTokenAcl, createKeyStore, createVerifier } from '../src/index.js'
import type { KeyStore, Verifier } from '../src/index.js'
import { startFakeExchange } from '@mqtt-oidc/test-support/fake-exchange'
import type { FakeExchange } from '@mqtt-oidc/test-support/fake-exchange'
import { createTokenKit, nowSeconds, unsignedToken } from '@mqtt-oidc/test-support/token-kit'
import type { TokenKit } from '@mqtt-oidc/test-support/token-kit'

const BROKER = 'demo'

let exchange: FakeExchange
let kit: TokenKit
let verifier: Verifier

const codeOf = async (p: Promise<unknown>): Promise<string> => {
  try {
    await p
  } catch (err) {
    return (err as { code?: string }).code ?? `not ours: ${String(err)}`
  }
  return 'resolved'
}

beforeAll(async () => {
  exchange = await startFakeExchange({ broker: BROKER })
  kit = await createTokenKit({ issuer: exchange.url, audience: BROKER })
  exchange.jwks = { keys: [kit.publicJwk] }
  verifier = createVerifier({ issuer: exchange.url, audience: BROKER, jwksUri: exchange.jwksUri })
})
afterAll(() => exchange.close())

describe('createVerifier: accepted tokens', () => {
  it('verifies an EdDSA broker token from the JWKS and returns its claims', async () => {
    const token = await kit.sign({ sub: 'c1', username: 'alice' })
    const claims = await verifier.verify(token)
    expect(claims).toMatchObject({ iss: exchange.url, aud: BROKER, sub: 'c1', username: 'alice' })
    expect(claims.acl).toEqual({ pub: ['devices/${clientid}/#'], sub: ['devices/${clientid}/#'] })
  })

  it('accepts ES256 and RS256 keys from the same JWKS', async () => {
    const es = await createTokenKit({ issuer: exchange.url, audience: BROKER, alg: 'ES256' })
    const rs = await createTokenKit({ issuer: exchange.url, audience: BROKER, alg: 'RS256' })
    exchange.jwks = { keys: [kit.publicJwk, es.publicJwk, rs.publicJwk] }
    const fresh = createVerifier({ issuer: exchange.url, audience: BROKER, jwksUri: exchange.jwksUri })
    await expect(fresh.verify(await es.sign({ sub: 'es' }))).resolves.toMatchObject({ sub: 'es' })
    await expect(fresh.verify(await rs.sign({ sub: 'rs' }))).resolves.toMatchObject({ sub: 'rs' })
    exchange.jwks = { keys: [kit.publicJwk] }
  })

  it('accepts a token expired by less than the clock tolerance', async () => {
    const token = await kit.sign({ exp: nowSeconds() - 2 })
    await expect(verifier.verify(token)).resolves.toMatchObject({ sub: 'c1' })
  })

  it('a token without an acl claim verifies but grants nothing; topicAcl "#" grants all topics', async () => {
    const bare = await verifier.verify(await kit.sign({ acl: undefined }))
    expect(brokerTokenAcl(bare)).toEqual(EMPTY_ACL)
    const all = await verifier.verify(await kit.sign({ acl: undefined, topicAcl: '#' }))
    expect(brokerTokenAcl(all)).toEqual({ pub: ['#'], sub: ['#'] })
  })
})

describe('createVerifier: algorithm rules', () => {
  it('refuses alg none', async () => {
    const now = nowSeconds()
    const token = unsignedToken({ iss: exchange.url, aud: BROKER, sub: 'c1', jti: 'j', iat: now, exp: now + 60 }, { kid: kit.kid })
    expect(await codeOf(verifier.verify(token))).toBe('ERR_TOKEN_ALG_NOT_ALLOWED')
  })

  it('refuses HS256 signed with the public key bytes as the HMAC secret', async () => {
    const now = nowSeconds()
    for (const secret of [Buffer.from(kit.spki), Buffer.from(JSON.stringify(kit.publicJwk)), Buffer.from(kit.publicJwk.x ?? '', 'base64url')]) {
      const token = await new SignJWT({ iss: exchange.url, aud: BROKER, sub: 'c1', jti: 'j', iat: now, exp: now + 60 })
        .setProtectedHeader({ alg: 'HS256', kid: kit.kid, typ: 'mqtt-broker+jwt' })
        .sign(new Uint8Array(secret))
      expect(await codeOf(verifier.verify(token))).toBe('ERR_TOKEN_ALG_NOT_ALLOWED')
    }
  })

  it('refuses to be configured with none or an HS* algorithm', () => {
    expect(() => createVerifier({ issuer: 'x', audience: BROKER, jwksUri: exchange.jwksUri, algorithms: ['EdDSA', 'HS256'] })).toThrow(TypeError)
    expect(() => createVerifier({ issuer: 'x', audience: BROKER, jwksUri: exchange.jwksUri, algorithms: ['none'] })).toThrow(TypeError)
  })

  it('refuses an algorithm left out of a narrowed allow-list', async () => {
    const es = await createTokenKit({ issuer: exchange.url, audience: BROKER, alg: 'ES256' })
    const only = createVerifier({ issuer: exchange.url, audience: BROKER, jwksUri: exchange.jwksUri, algorithms: ['EdDSA'] })
    expect(await codeOf(only.verify(await es.sign()))).toBe('ERR_TOKEN_ALG_NOT_ALLOWED')
  })

  it('refuses a token whose signature does not verify', async () => {
    const token = await kit.sign()
    const [h, p, s] = token.split('.')
    const tampered = `${h}.${Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(p ?? '', 'base64url').toString()), sub: 'admin' })).toString('base64url')}.${s}`
    expect(await codeOf(verifier.verify(tampered))).toBe('ERR_TOKEN_SIGNATURE')
  })
})

describe('createVerifier: claim rules', () => {
  it.each([
    ['typ JWT', {}, { typ: 'JWT' }, 'ERR_TOKEN_TYPE'],
    ['typ at+jwt (an access token)', {}, { typ: 'at+jwt' }, 'ERR_TOKEN_TYPE'],
    ['no typ', {}, { typ: undefined }, 'ERR_TOKEN_TYPE'],
    ['another issuer', { iss: 'https://evil.example' }, {}, 'ERR_TOKEN_ISSUER'],
    ['no issuer', { iss: undefined }, {}, 'ERR_TOKEN_ISSUER'],
    ['another broker (aud)', { aud: 'other-broker' }, {}, 'ERR_TOKEN_AUDIENCE'],
    ['no aud', { aud: undefined }, {}, 'ERR_TOKEN_AUDIENCE'],
    ['aud naming several recipients', { aud: [BROKER, 'other-broker'] }, {}, 'ERR_TOKEN_CLAIMS'],
    ['expired beyond the leeway', { exp: nowSeconds() - 30 }, {}, 'ERR_TOKEN_EXPIRED'],
    ['nbf in the future', { nbf: nowSeconds() + 60 }, {}, 'ERR_TOKEN_NOT_YET_VALID'],
    ['exp not a number', { exp: 'soon' }, {}, 'ERR_TOKEN_CLAIMS'],
    ['malformed acl (bad filter)', { acl: { pub: ['a/#/b'], sub: [] } }, {}, 'ERR_TOKEN_CLAIMS'],
    ['malformed acl (not an object)', { acl: '#' }, {}, 'ERR_TOKEN_CLAIMS'],
    ['malformed acl (extra key)', { acl: { pub: [], sub: [], admin: true } }, {}, 'ERR_TOKEN_CLAIMS'],
    ['no sub', { sub: undefined }, {}, 'ERR_TOKEN_CLAIMS'],
    ['no jti', { jti: undefined }, {}, 'ERR_TOKEN_CLAIMS'],
  ])('refuses a token with %s', async (_name, claims, header, code) => {
    expect(await codeOf(verifier.verify(await kit.sign(claims, header)))).toBe(code)
  })

  it('refuses garbage, empty and oversized passwords', async () => {
    expect(await codeOf(verifier.verify('not a jwt'))).toBe('ERR_TOKEN_MALFORMED')
    expect(await codeOf(verifier.verify('a.b.c'))).toBe('ERR_TOKEN_MALFORMED')
    expect(await codeOf(verifier.verify(''))).toBe('ERR_TOKEN_MISSING')
    expect(await codeOf(verifier.verify('x'.repeat(9000)))).toBe('ERR_TOKEN_MALFORMED')
  })

  it('refuses a revoked jti', async () => {
    const revoked = new Set(['jti-gone'])
    const v = createVerifier({ issuer: exchange.url, audience: BROKER, jwksUri: exchange.jwksUri, revocations: revoked })
    expect(await codeOf(v.verify(await kit.sign({ jti: 'jti-gone' })))).toBe('ERR_TOKEN_REVOKED')
    await expect(v.verify(await kit.sign({ jti: 'jti-ok' }))).resolves.toMatchObject({ jti: 'jti-ok' })
  })

  it('uses the injected clock', async () => {
    const token = await kit.sign({ exp: nowSeconds() + 60 })
    const later = createVerifier({ issuer: exchange.url, audience: BROKER, jwksUri: exchange.jwksUri, now: () => nowSeconds() + 3600 })
    expect(await codeOf(later.verify(token))).toBe('ERR_TOKEN_EXPIRED')
  })
})

describe("createVerifier: strict JWT rules (the same as the exchange's)", () => {
  const claims = (now: number, extra = ''): string =>
    `{"iss":${JSON.stringify(exchange.url)},"aud":"${BROKER}","sub":"c1","jti":"strict","iat":${now},"exp":${now + 60}${extra}}`
  const header = (extra = ''): string => `{"alg":"EdDSA","kid":"${kit.kid}","typ":"mqtt-broker+jwt"${extra}}`

  it('refuses a payload naming a claim twice (JSON.parse would keep the last one silently)', async () => {
    const now = nowSeconds()
    await expect(verifier.verify(kit.signText(header(), claims(now)))).resolves.toMatchObject({ sub: 'c1' })
    const twice = kit.signText(header(), claims(now, ',"sub":"victim"'))
    await expect(verifier.verify(twice)).rejects.toMatchObject({ code: 'ERR_TOKEN_MALFORMED', claim: 'sub', reason: 'duplicate' })
    const nested = kit.signText(header(), claims(now, ',"acl":{"pub":[],"sub":[],"pub":["#"]}'))
    await expect(verifier.verify(nested)).rejects.toMatchObject({ code: 'ERR_TOKEN_MALFORMED', claim: 'pub', reason: 'duplicate' })
    const escaped = kit.signText(header(), claims(now, ',"\\u0073ub":"victim"'))
    await expect(verifier.verify(escaped)).rejects.toMatchObject({ code: 'ERR_TOKEN_MALFORMED', claim: 'sub', reason: 'duplicate' })
  })

  it('refuses a header naming a parameter twice', async () => {
    const token = kit.signText(`{"typ":"JWT","alg":"EdDSA","kid":"${kit.kid}","typ":"mqtt-broker+jwt"}`, claims(nowSeconds()))
    await expect(verifier.verify(token)).rejects.toMatchObject({ code: 'ERR_TOKEN_MALFORMED', claim: 'typ', reason: 'duplicate' })
  })

  it('refuses iat in the future beyond the clock tolerance, and accepts it within', async () => {
    const now = nowSeconds()
    await expect(verifier.verify(await kit.sign({ iat: now + 3, nbf: undefined }))).resolves.toMatchObject({ iat: now + 3 })
    await expect(verifier.verify(await kit.sign({ iat: now + 60, nbf: undefined }))).rejects.toMatchObject({
      code: 'ERR_TOKEN_NOT_YET_VALID',
      claim: 'iat',
      reason: 'check_failed',
    })
  })

  it('refuses times written in milliseconds', async () => {
    const ms = Date.now()
    await expect(verifier.verify(await kit.sign({ exp: ms + 60_000 }))).rejects.toMatchObject({ code: 'ERR_TOKEN_CLAIMS', claim: 'exp', reason: 'invalid' })
    await expect(verifier.verify(await kit.sign({ nbf: ms - 1000 }))).rejects.toMatchObject({ code: 'ERR_TOKEN_CLAIMS', claim: 'nbf', reason: 'invalid' })
  })

  it('names the claim at fault, as jose does', async () => {
    await expect(verifier.verify(await kit.sign({ exp: nowSeconds() - 60 }))).rejects.toMatchObject({
      code: 'ERR_TOKEN_EXPIRED',
      claim: 'exp',
      reason: 'check_failed',
    })
    await expect(verifier.verify(await kit.sign({ aud: 'other-broker' }))).rejects.toMatchObject({
      code: 'ERR_TOKEN_AUDIENCE',
      claim: 'aud',
      reason: 'check_failed',
    })
    await expect(verifier.verify(await kit.sign({ iss: undefined }))).rejects.toMatchObject({ code: 'ERR_TOKEN_ISSUER', claim: 'iss', reason: 'missing' })
  })
})

describe('createVerifier: keys come only from the configured JWKS', () => {
  it('ignores a jku header pointing at an attacker JWKS (never fetched)', async () => {
    const attacker = await createTokenKit({ issuer: exchange.url, audience: BROKER })
    let attackerHits = 0
    const evil = createServer((_req, res) => {
      attackerHits++
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [attacker.publicJwk] }))
    })
    await new Promise<void>((resolve) => evil.listen(0, '127.0.0.1', resolve))
    const jku = `http://127.0.0.1:${(evil.address() as AddressInfo).port}/jwks.json`
    try {
      const token = await attacker.sign({}, { jku, x5u: jku })
      expect(await codeOf(verifier.verify(token))).toBe('ERR_TOKEN_SIGNATURE')
      expect(attackerHits).toBe(0)
    } finally {
      evil.closeAllConnections()
      await new Promise((resolve) => evil.close(resolve))
    }
  })

  it('ignores an embedded jwk header', async () => {
    const attacker = await createTokenKit({ issuer: exchange.url, audience: BROKER, kid: kit.kid })
    const { kid: _kid, alg: _alg, use: _use, ...jwk } = attacker.publicJwk
    const token = await attacker.sign({}, { jwk })
    expect(await codeOf(verifier.verify(token))).toBe('ERR_TOKEN_SIGNATURE')
  })

  it('fetches the JWKS at most once per cooldown however many unknown kids arrive', async () => {
    const v = createVerifier({ issuer: exchange.url, audience: BROKER, jwksUri: exchange.jwksUri, jwksCooldownMs: 60_000 })
    await v.verify(await kit.sign())
    const before = exchange.jwksHits
    const junk = await Promise.all(Array.from({ length: 20 }, (_, i) => kit.sign({}, { kid: `junk-${i}` })))
    const codes = await Promise.all(junk.map((t) => codeOf(v.verify(t))))
    expect(new Set(codes)).toEqual(new Set(['ERR_TOKEN_SIGNATURE']))
    expect(exchange.jwksHits - before).toBe(0)
  })

  it('refetches the JWKS for a new kid after the cooldown (key rotation)', async () => {
    const v = createVerifier({ issuer: exchange.url, audience: BROKER, jwksUri: exchange.jwksUri, jwksCooldownMs: 0 })
    await v.verify(await kit.sign())
    const rotated = await createTokenKit({ issuer: exchange.url, audience: BROKER })
    exchange.jwks = { keys: [kit.publicJwk, rotated.publicJwk] }
    try {
      await expect(v.verify(await rotated.sign({ sub: 'r1' }))).resolves.toMatchObject({ sub: 'r1' })
    } finally {
      exchange.jwks = { keys: [kit.publicJwk] }
    }
  })

  it('fails with KeysUnavailable when the JWKS cannot be fetched and no keys are held', async () => {
    exchange.jwksFailure = 503
    try {
      const v = createVerifier({ issuer: exchange.url, audience: BROKER, jwksUri: exchange.jwksUri })
      expect(await codeOf(v.verify(await kit.sign()))).toBe('ERR_KEYS_UNAVAILABLE')
    } finally {
      exchange.jwksFailure = undefined
    }
    const down = createVerifier({ issuer: exchange.url, audience: BROKER, jwksUri: 'http://127.0.0.1:1/jwks.json' })
    expect(await codeOf(down.verify(await kit.sign()))).toBe('ERR_KEYS_UNAVAILABLE')
  })
})

describe('createVerifier: JWS header extensions', () => {
  it('refuses a token with a crit header (no extension is understood)', async () => {
    const now = nowSeconds()
    const payload = { iss: exchange.url, aud: BROKER, sub: 'c1', jti: 'crit', iat: now, exp: now + 60 }
    const token = kit.signRaw({ alg: 'EdDSA', kid: kit.kid, typ: 'mqtt-broker+jwt', crit: ['exp'], exp: now + 60 }, payload)
    expect(await codeOf(verifier.verify(token))).toBe('ERR_TOKEN_MALFORMED')
    // the same token without crit verifies: crit alone is what refuses it
    const plain = kit.signRaw({ alg: 'EdDSA', kid: kit.kid, typ: 'mqtt-broker+jwt' }, payload)
    await expect(verifier.verify(plain)).resolves.toMatchObject({ jti: 'crit' })
  })

  it('refuses a token with a b64 header (unencoded payloads are not JWTs)', async () => {
    const now = nowSeconds()
    const payload = { iss: exchange.url, aud: BROKER, sub: 'c1', jti: 'b64', iat: now, exp: now + 60 }
    for (const header of [{ b64: false, crit: ['b64'] }, { b64: true }]) {
      const token = kit.signRaw({ alg: 'EdDSA', kid: kit.kid, typ: 'mqtt-broker+jwt', ...header }, payload)
      expect(await codeOf(verifier.verify(token))).toBe('ERR_TOKEN_MALFORMED')
    }
  })

  it('accepts typ spelled application/mqtt-broker+jwt in any case, as RFC 8725 allows', async () => {
    await expect(verifier.verify(await kit.sign({ sub: 't' }, { typ: 'Application/MQTT-Broker+JWT' }))).resolves.toMatchObject({ sub: 't' })
  })
})

describe('createVerifier: cache of verified tokens', () => {
  it('checks the signature of a token the first two times it comes, then serves it from the cache', async () => {
    const keys = createKeyStore({ jwksUri: exchange.jwksUri })
    await keys.refresh()
    let lookups = 0
    const counted: KeyStore = { ...keys, lookup: (kid, alg) => (lookups++, keys.lookup(kid, alg)) }
    const v = createVerifier({ issuer: exchange.url, audience: BROKER, jwksUri: exchange.jwksUri, keys: counted })
    const token = await kit.sign({ sub: 'again' })
    const once = await kit.sign({ sub: 'once' })
    for (const expected of [1, 2, 2, 2]) {
      await expect(v.verify(token)).resolves.toMatchObject({ sub: 'again' })
      expect(lookups).toBe(expected)
    }
    await expect(v.verify(once)).resolves.toMatchObject({ sub: 'once' })
    expect(lookups).toBe(3)
    expect(v.verifyIfKeysHeld(token)).toMatchObject({ sub: 'again' })
    expect(lookups).toBe(3)
    keys.close()
  })

  it('re-checks expiry and revocation on a cached token', async () => {
    const revoked = new Set<string>()
    const clock = { s: nowSeconds() }
    const v = createVerifier({ issuer: exchange.url, audience: BROKER, jwksUri: exchange.jwksUri, revocations: revoked, now: () => clock.s })
    const token = await kit.sign({ jti: 'cached', exp: clock.s + 60 })
    await expect(v.verify(token)).resolves.toMatchObject({ jti: 'cached' })
    revoked.add('cached')
    expect(await codeOf(v.verify(token))).toBe('ERR_TOKEN_REVOKED')
    revoked.delete('cached')
    await expect(v.verify(token)).resolves.toMatchObject({ jti: 'cached' })
    clock.s += 120
    expect(await codeOf(v.verify(token))).toBe('ERR_TOKEN_EXPIRED')
    v.close()
  })
})
