import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest'
import { createRemoteJWKSet, jwtVerify } from 'jose'
import type { JWTPayload } from 'jose'
import { ensureBroker } from '../src/ensure-broker.js'
import { startExchange } from './support/harness.js'
import type { Running } from './support/harness.js'
import { startTestIdp } from '@mqtt-oidc/test-support/test-idp'
import type { TestIdp } from '@mqtt-oidc/test-support/test-idp'

let idp: TestIdp
let ex: Running

beforeAll(async () => { idp = await startTestIdp() })
afterAll(async () => { await idp.close() })
beforeEach(async () => {
  ex = await startExchange(idp)
  await ensureBroker(ex.store, { id: 'demo' })
})
afterEach(async () => { await ex.close() })

const ULID = /^[0-9A-HJKMNP-TV-Z]{26}$/

async function issue(body: Record<string, unknown>, broker = 'demo'): Promise<Record<string, JWTPayload>> {
  const res = await ex.api('POST', `/admin/brokers/${broker}/credentials`, body)
  expect(res.status).toBe(200)
  expect(res.headers.get('cache-control')).toBe('no-store')
  const tokens = await res.json() as Record<string, string>
  const jwks = createRemoteJWKSet(new URL(`${ex.url}/.well-known/jwks.json`))
  const claims: Record<string, JWTPayload> = {}
  for (const [clientId, token] of Object.entries(tokens)) {
    claims[clientId] = (await jwtVerify(token, jwks, { issuer: ex.exchange.issuer, audience: broker, typ: 'mqtt-broker+jwt' })).payload
  }
  return claims
}

describe('POST /admin/brokers/:id/credentials', () => {
  it('issues 5 credentials with ULID client ids, all topics, expiring after 48h', async () => {
    const claims = await issue({ number: 5, expiration: '48h' })
    expect(Object.keys(claims)).toHaveLength(5)
    for (const [clientId, c] of Object.entries(claims)) {
      expect(clientId).toMatch(ULID)
      expect(c).toEqual({
        iss: ex.exchange.issuer, aud: 'demo', sub: clientId, jti: expect.stringMatching(ULID), iat: expect.any(Number),
        nbf: c.iat, exp: c.iat! + 172800, acl: { pub: ['#'], sub: ['#'] }, topicAcl: '#',
      })
      expect(await ex.store.credentials.get('demo', c.jti!)).toEqual({
        jti: c.jti, broker: 'demo', clientId, username: null, issuedAt: c.iat, expiresAt: c.exp,
        source: 'admin', issuedBy: 'mqtt-oidc-admin',
      })
    }
    expect(new Set(Object.values(claims).map((c) => c.jti)).size).toBe(5)
  })

  it('lets the broker expiration win when it is shorter than the request', async () => {
    await ex.store.brokers.update('demo', { expiration: 3600 })
    const [c] = Object.values(await issue({ number: 1, expiration: '48h' }))
    expect(c!.exp! - c!.iat!).toBe(3600)
  })

  it('lets the request win when it is shorter than the broker expiration', async () => {
    await ex.store.brokers.update('demo', { expiration: 86400 })
    const [c] = Object.values(await issue({ number: 1, expiration: 600 }))
    expect(c!.exp! - c!.iat!).toBe(600)
  })

  it('drops exp for expiration -1 even when the broker has one', async () => {
    await ex.store.brokers.update('demo', { expiration: 3600 })
    const [c] = Object.values(await issue({ number: 1, expiration: -1 }))
    expect(c).not.toHaveProperty('exp')
    expect((await ex.store.credentials.get('demo', c!.jti!))?.expiresAt).toBeNull()
  })

  it('uses the broker expiration when none is requested, and the 7-day default when neither has one', async () => {
    const [none] = Object.values(await issue({}))
    expect(none!.exp! - none!.iat!).toBe(604800)
    await ex.store.brokers.update('demo', { expiration: 900 })
    const [brokerDefault] = Object.values(await issue({ number: 1 }))
    expect(brokerDefault!.exp! - brokerDefault!.iat!).toBe(900)
  })

  it('issues for supplied client ids with a username and a narrower ACL', async () => {
    const acl = { pub: ['devices/${clientid}/up'], sub: ['devices/${clientid}/down'] }
    const claims = await issue({ clientIds: ['gw-a', 'gw-b'], username: 'ops', acl })
    expect(Object.keys(claims).sort()).toEqual(['gw-a', 'gw-b'])
    expect(claims['gw-a']).toMatchObject({ sub: 'gw-a', username: 'ops', acl })
    expect(claims['gw-a']).not.toHaveProperty('topicAcl')
  })

  it('refuses number 101 and records nothing', async () => {
    const insertMany = vi.spyOn(ex.store.credentials, 'insertMany')
    const res = await ex.api('POST', '/admin/brokers/demo/credentials', { number: 101 })
    expect({ status: res.status, body: await res.json() })
      .toEqual({ status: 400, body: { error: 'invalid_request', error_description: 'number must be between 1 and 100' } })
    const res0 = await ex.api('POST', '/admin/brokers/demo/credentials', { number: 0 })
    expect(await res0.json()).toEqual({ error: 'invalid_request', error_description: 'number must be between 1 and 100' })
    expect(insertMany).not.toHaveBeenCalled()
  })

  it('refuses duplicate client ids and issues nothing', async () => {
    const insertMany = vi.spyOn(ex.store.credentials, 'insertMany')
    const res = await ex.api('POST', '/admin/brokers/demo/credentials', { clientIds: ['a', 'b', 'a'] })
    expect({ status: res.status, body: await res.json() })
      .toEqual({ status: 400, body: { error: 'invalid_request', error_description: 'duplicate client ids: a' } })
    expect(insertMany).not.toHaveBeenCalled()
  })

  it('refuses 101 client ids', async () => {
    const clientIds = Array.from({ length: 101 }, (_, i) => `c${i}`)
    const res = await ex.api('POST', '/admin/brokers/demo/credentials', { clientIds })
    expect({ status: res.status, body: await res.json() })
      .toEqual({ status: 400, body: { error: 'invalid_request', error_description: 'clientIds must list between 1 and 100 client ids' } })
  })

  it('answers 404 for an unknown broker', async () => {
    const res = await ex.api('POST', '/admin/brokers/ghost/credentials', { number: 1 })
    expect({ status: res.status, body: await res.json() })
      .toEqual({ status: 404, body: { error: 'not_found', error_description: 'unknown broker "ghost"' } })
  })
})

describe('POST /admin/brokers/:id/credentials: absurd expiration and notBefore', () => {
  const NOW = 1_800_000_000
  let fixed: Running
  beforeEach(async () => {
    fixed = await startExchange(idp, { now: () => NOW })
    await ensureBroker(fixed.store, { id: 'demo' })
  })
  afterEach(async () => { await fixed.close() })

  const refusal = async (body: Record<string, unknown>): Promise<unknown> => {
    const res = await fixed.api('POST', '/admin/brokers/demo/credentials', body)
    return { status: res.status, body: await res.json() }
  }
  const invalid = (description: string) => ({ status: 400, body: { error: 'invalid_request', error_description: description } })
  const EXPIRATION_RANGE = 'expiration must be -1 (none) or from 1 s to 3650d (315360000 s, 10 years)'
  const NOT_BEFORE_RANGE = `notBefore must be from 1 day before now to 365 days after now (epoch seconds ${NOW - 86400} to ${NOW + 365 * 86400})`

  it.each<[unknown, string]>([
    [1.5, 'expiration must be a whole number of seconds; got 1.5'],
    [-5, `${EXPIRATION_RANGE}; got -5`],
    [0, `${EXPIRATION_RANGE}; got 0`],
    [315360001, `${EXPIRATION_RANGE}; got 315360001`],
    [2 ** 31, `${EXPIRATION_RANGE}; got 2147483648`],
    [1e300, `${EXPIRATION_RANGE}; got 1e+300`],
    ['3651d', `${EXPIRATION_RANGE}; got "3651d"`],
    ['999999999999w', `${EXPIRATION_RANGE}; got "999999999999w"`],
    ['-2', 'expiration: invalid duration "-2": use seconds or a number with s, m, h, d or w (e.g. 48h, 7d), or -1 for none'],
  ])('refuses expiration %j, saying the bounds, and issues nothing', async (expiration, description) => {
    expect(await refusal({ clientIds: ['gw-1'], expiration })).toEqual(invalid(description))
    expect(await fixed.store.credentials.countLive('demo', NOW)).toBe(0)
  })

  it.each<[unknown, string]>([
    [1.5, 'notBefore must be whole epoch seconds; got 1.5'],
    [-1, `${NOT_BEFORE_RANGE}; got -1`],
    [0, `${NOT_BEFORE_RANGE}; got 0`],
    [NOW - 86401, `${NOT_BEFORE_RANGE}; got ${NOW - 86401}`],
    [NOW + 365 * 86400 + 1, `${NOT_BEFORE_RANGE}; got ${NOW + 365 * 86400 + 1}`],
    [2 ** 31, `${NOT_BEFORE_RANGE}; got 2147483648`],
    [NOW * 1000, `${NOT_BEFORE_RANGE}; got ${NOW * 1000} (milliseconds? notBefore takes seconds)`],
    [String(NOW * 1000), `${NOT_BEFORE_RANGE}; got ${NOW * 1000} (milliseconds? notBefore takes seconds)`],
    ['366d', `${NOT_BEFORE_RANGE}; got ${NOW + 366 * 86400}`],
    ['2100-01-01T00:00:00Z', `${NOT_BEFORE_RANGE}; got 4102444800`],
    ['1970-01-01T00:00:00Z', `${NOT_BEFORE_RANGE}; got 0`],
  ])('refuses notBefore %j, saying the bounds, and issues nothing', async (notBefore, description) => {
    expect(await refusal({ clientIds: ['gw-1'], notBefore })).toEqual(invalid(description))
    expect(await fixed.store.credentials.countLive('demo', NOW)).toBe(0)
  })

  it('takes the bounds themselves', async () => {
    const res = await fixed.api('POST', '/admin/brokers/demo/credentials', { clientIds: ['a'], expiration: 315360000, notBefore: NOW + 365 * 86400 })
    expect(res.status).toBe(200)
    const back = await fixed.api('POST', '/admin/brokers/demo/credentials', { clientIds: ['b'], expiration: '3650d', notBefore: NOW - 86400 })
    expect(back.status).toBe(200)
    expect(await fixed.store.credentials.countLive('demo', NOW)).toBe(2)
  })

  it('refuses a broker expiration beyond the bounds too', async () => {
    const res = await fixed.api('POST', '/admin/brokers', { id: 'forever', expiration: 2 ** 31 })
    expect({ status: res.status, body: await res.json() }).toEqual(invalid(`${EXPIRATION_RANGE}; got 2147483648`))
    expect(await fixed.store.brokers.get('forever')).toBeUndefined()
  })
})
