import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { createLocalJWKSet, decodeJwt, decodeProtectedHeader, jwtVerify } from 'jose'
import type { JSONWebKeySet } from 'jose'
import { TOKEN_EXCHANGE_GRANT, TOKEN_TYPE } from '@mqtt-oidc/core'
import { startExchange } from './support/harness.js'
import type { Running } from './support/harness.js'
import { now, startTestIdp } from '@mqtt-oidc/test-support/test-idp'
import type { TestIdp } from '@mqtt-oidc/test-support/test-idp'

let idp: TestIdp
let ex: Running
let clock: number

beforeAll(async () => {
  idp = await startTestIdp()
})
afterAll(async () => {
  await idp.close()
})
beforeEach(async () => {
  clock = now()
  ex = await startExchange(idp, { now: () => clock })
})
afterEach(async () => {
  await ex.close()
})

const exchange = async (broker: string): Promise<string> => {
  const res = await ex.exchangeToken({
    grant_type: TOKEN_EXCHANGE_GRANT,
    subject_token: await idp.idToken({ iat: clock, exp: clock + 300 }),
    subject_token_type: TOKEN_TYPE.idToken,
    audience: broker,
  })
  const body = (await res.json()) as { access_token: string }
  expect(res.status, JSON.stringify(body)).toBe(200)
  return body.access_token
}
const jwks = async (): Promise<JSONWebKeySet> => (await (await fetch(`${ex.url}/.well-known/jwks.json`)).json()) as JSONWebKeySet
const createBroker = async (id: string, policy: Record<string, unknown> = {}): Promise<Record<string, unknown>> => {
  const res = await ex.api('POST', '/admin/brokers', { id, policy })
  expect(res.status).toBe(201)
  return (await res.json()) as Record<string, unknown>
}

describe('signing algorithms per broker', () => {
  it.each(['ES256', 'RS256', 'EdDSA'] as const)('signs %s tokens that verify against the JWKS', async (alg) => {
    await createBroker('b1', { alg })
    const token = await exchange('b1')
    const { protectedHeader } = await jwtVerify(token, createLocalJWKSet(await jwks()), {
      issuer: ex.exchange.issuer,
      audience: 'b1',
      typ: 'mqtt-broker+jwt',
      algorithms: [alg],
    })
    expect(protectedHeader.alg).toBe(alg)
  })

  it("gives an HS256 broker its own secret once, never publishes it, and it verifies no other broker's tokens", async () => {
    const created = await createBroker('hmac-a', { alg: 'HS256' })
    const secretA = created.hmacSecret as string
    expect(secretA).toMatch(/^[A-Za-z0-9_-]{43}$/)
    const secretB = (await createBroker('hmac-b', { alg: 'HS256' })).hmacSecret as string
    expect(secretB).not.toBe(secretA)
    expect(await (await ex.api('GET', '/admin/brokers/hmac-a')).json()).not.toHaveProperty('hmacSecret')

    const token = await exchange('hmac-a')
    expect(decodeProtectedHeader(token).alg).toBe('HS256')
    const key = (s: string): Uint8Array => Buffer.from(s, 'base64url')
    await expect(jwtVerify(token, key(secretA), { audience: 'hmac-a', algorithms: ['HS256'] })).resolves.toBeTruthy()
    await expect(jwtVerify(token, key(secretB), { algorithms: ['HS256'] })).rejects.toThrow('signature verification failed')
    const published = (await jwks()).keys
    expect(published.every((k) => k.kty !== 'oct' && k.alg !== 'HS256' && k.k === undefined)).toBe(true)
    expect(JSON.stringify(published)).not.toContain(secretA)
  })
})

describe('POST /admin/brokers/:id/hmac-secret', () => {
  it("replaces an HS256 broker's secret (shown once) and refuses brokers that do not use HS256", async () => {
    const first = (await createBroker('hmac-r', { alg: 'HS256' })).hmacSecret as string
    const res = await ex.api('POST', '/admin/brokers/hmac-r/hmac-secret')
    const { hmacSecret } = (await res.json()) as { hmacSecret: string }
    expect([res.status, res.headers.get('cache-control'), hmacSecret === first]).toEqual([200, 'no-store', false])
    const token = await exchange('hmac-r')
    await expect(jwtVerify(token, Buffer.from(hmacSecret, 'base64url'), { algorithms: ['HS256'] })).resolves.toBeTruthy()
    await expect(jwtVerify(token, Buffer.from(first, 'base64url'), { algorithms: ['HS256'] })).rejects.toThrow()
    await createBroker('plain')
    const refused = await ex.api('POST', '/admin/brokers/plain/hmac-secret')
    expect({ status: refused.status, body: await refused.json() }).toEqual({
      status: 400,
      body: { error: 'invalid_request', error_description: 'broker "plain" does not use HS256' },
    })
  })
})

describe('key rotation (POST /admin/keys/rotate)', () => {
  it('publishes the new key before it signs, for the lead time', async () => {
    await createBroker('rot')
    const oldKid = decodeProtectedHeader(await exchange('rot')).kid
    const res = await ex.api('POST', '/admin/keys/rotate', { leadTime: '10m' })
    const rotated = (await res.json()) as { kid: string; activatesAt: number; retiring: string }
    expect(rotated).toEqual({ kid: expect.any(String), alg: 'EdDSA', activatesAt: clock + 600, retiring: oldKid })
    expect((await jwks()).keys.map((k) => k.kid)).toEqual(expect.arrayContaining([oldKid, rotated.kid]))
    expect(decodeProtectedHeader(await exchange('rot')).kid).toBe(oldKid)
    clock += 600
    expect(decodeProtectedHeader(await exchange('rot')).kid).toBe(rotated.kid)
  })

  it('keeps the old key in the JWKS until the last token it signed has expired, then drops it', async () => {
    await createBroker('rot')
    const token = await exchange('rot')
    const { kid: oldKid } = decodeProtectedHeader(token)
    const { kid: newKid } = (await (await ex.api('POST', '/admin/keys/rotate', { leadTime: 0 })).json()) as { kid: string }
    clock += 3600 // the old key's last token (1 h) has just expired, within the hour its usage is rounded to
    expect((await jwks()).keys.map((k) => k.kid)).toContain(oldKid)
    clock = Math.ceil((decodeJwt(token).exp! + 1) / 3600) * 3600 + 61
    expect((await jwks()).keys.map((k) => k.kid)).toEqual([newKid])
  })

  it('refuses an admin limited to one broker', async () => {
    await createBroker('rot')
    const token = await idp.accessToken(ex.exchange.issuer, { scope: 'mqtt-oidc:admin:broker:rot' })
    const res = await ex.api('POST', '/admin/keys/rotate', {}, token)
    expect({ status: res.status, body: await res.json() }).toEqual({
      status: 403,
      body: { error: 'insufficient_scope', error_description: 'this action needs scope mqtt-oidc:admin' },
    })
  })
})

describe('GET /.well-known/jwks.json caching', () => {
  it('sends Cache-Control and a strong ETag, and answers If-None-Match with 304', async () => {
    const first = await fetch(`${ex.url}/.well-known/jwks.json`)
    const etag = first.headers.get('etag')
    expect({ cache: first.headers.get('cache-control'), etag }).toEqual({ cache: 'public, max-age=300', etag: expect.stringMatching(/^"/) })
    const again = await fetch(`${ex.url}/.well-known/jwks.json`, { headers: { 'if-none-match': etag! } })
    expect(again.status).toBe(304)
    await ex.api('POST', '/admin/keys/rotate', { leadTime: '10m' })
    const changed = await fetch(`${ex.url}/.well-known/jwks.json`, { headers: { 'if-none-match': etag! } })
    expect(changed.status).toBe(200)
    expect(changed.headers.get('etag')).not.toBe(etag)
  })
})
