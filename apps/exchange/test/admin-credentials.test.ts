import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest'
import { createRemoteJWKSet, jwtVerify } from 'jose'
import type { JWTPayload } from 'jose'
import { ensureBroker } from '../src/ensure-broker.js'
import { startExchange } from './support/harness.js'
import type { Running } from './support/harness.js'
import { startTestIdp } from './support/test-idp.js'
import type { TestIdp } from './support/test-idp.js'

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
