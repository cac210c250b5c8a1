import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { decodeJwt } from 'jose'
import { ensureBroker } from '../src/ensure-broker.js'
import { startExchange } from './support/harness.js'
import type { Running } from './support/harness.js'
import { startTestIdp } from '@mqtt-oidc/test-support/test-idp'
import type { TestIdp } from '@mqtt-oidc/test-support/test-idp'

let idp: TestIdp
let ex: Running
let clock = 1_800_000_000

beforeAll(async () => {
  idp = await startTestIdp()
})
afterAll(async () => {
  await idp.close()
})
beforeEach(async () => {
  clock = 1_800_000_000
  ex = await startExchange(idp, { now: () => clock })
  await ensureBroker(ex.store, { id: 'demo' })
  await ensureBroker(ex.store, { id: 'other' })
})
afterEach(async () => {
  await ex.close()
})

/** Issues credentials for `clientIds` at the current clock; returns their jtis by client id. */
async function issue(clientIds: string[], body: Record<string, unknown> = {}, broker = 'demo'): Promise<Record<string, string>> {
  const res = await ex.api('POST', `/admin/brokers/${broker}/credentials`, { clientIds, ...body })
  expect(res.status).toBe(200)
  const tokens = (await res.json()) as Record<string, string>
  return Object.fromEntries(Object.entries(tokens).map(([id, token]) => [id, decodeJwt(token).jti as string]))
}

async function list(query = '', broker = 'demo'): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await ex.api('GET', `/admin/brokers/${broker}/credentials${query}`)
  return { status: res.status, body: (await res.json()) as Record<string, unknown> }
}

const clientIdsOf = (body: Record<string, unknown>): string[] => (body.credentials as Array<{ clientId: string }>).map((c) => c.clientId)

describe('GET /admin/brokers/:id/credentials', () => {
  it("lists the broker's credentials newest first with their state, never a token", async () => {
    const first = await issue(['gw-1'], { expiration: '1h' })
    clock += 10
    const second = await issue(['gw-2'], { expiration: -1 })
    await issue(['elsewhere'], {}, 'other')
    clock += 10
    await ex.api('POST', '/admin/brokers/demo/revocations', { jtis: [first['gw-1']] })
    expect(await list()).toEqual({
      status: 200,
      body: {
        credentials: [
          {
            jti: second['gw-2'],
            clientId: 'gw-2',
            username: null,
            issuedAt: 1_800_000_010,
            expiresAt: null,
            source: 'admin',
            issuedBy: 'mqtt-oidc-admin',
            revokedAt: null,
            state: 'live',
          },
          {
            jti: first['gw-1'],
            clientId: 'gw-1',
            username: null,
            issuedAt: 1_800_000_000,
            expiresAt: 1_800_003_600,
            source: 'admin',
            issuedBy: 'mqtt-oidc-admin',
            revokedAt: 1_800_000_020,
            state: 'revoked',
          },
        ],
        next: null,
      },
    })
  })

  it('filters by client id, jti, a part of either, revoked and expired, and by issue and expiry times', async () => {
    const a = await issue(['gw-1', 'gw-2'], { expiration: 60 })
    clock += 100
    const b = await issue(['sensor-1', 'gw-1'], { expiration: '1h' })
    await ex.api('POST', '/admin/brokers/demo/revocations', { jtis: [b['sensor-1']] })
    expect(clientIdsOf((await list('?clientId=gw-1')).body)).toEqual(['gw-1', 'gw-1'])
    expect((await list(`?jti=${a['gw-2']}`)).body.credentials).toMatchObject([{ clientId: 'gw-2', state: 'expired' }])
    expect(clientIdsOf((await list('?search=sens')).body)).toEqual(['sensor-1'])
    expect(clientIdsOf((await list('?revoked=true')).body)).toEqual(['sensor-1'])
    expect(clientIdsOf((await list('?expired=true')).body).sort()).toEqual(['gw-1', 'gw-2'])
    expect(clientIdsOf((await list('?expired=false&revoked=false')).body)).toEqual(['gw-1'])
    expect(clientIdsOf((await list('?issuedAfter=1800000000')).body).sort()).toEqual(['gw-1', 'sensor-1'])
    expect(clientIdsOf((await list('?issuedBefore=2027-01-15T08:00:01Z')).body).sort()).toEqual(['gw-1', 'gw-2'])
    expect(clientIdsOf((await list('?expiresBefore=1800000061')).body).sort()).toEqual(['gw-1', 'gw-2'])
    expect(clientIdsOf((await list('?expiresAfter=1800000060')).body).sort()).toEqual(['gw-1', 'sensor-1'])
  })

  it("pages with the answer's next as cursor", async () => {
    await issue(['c1', 'c2', 'c3', 'c4', 'c5'])
    const first = await list('?limit=2')
    expect(clientIdsOf(first.body)).toHaveLength(2)
    const second = await list(`?limit=2&cursor=${String(first.body.next)}`)
    const third = await list(`?limit=2&cursor=${String(second.body.next)}`)
    expect(third.body.next).toBeNull()
    expect([...clientIdsOf(first.body), ...clientIdsOf(second.body), ...clientIdsOf(third.body)].sort()).toEqual(['c1', 'c2', 'c3', 'c4', 'c5'])
  })

  it('refuses malformed filters with a message naming them, and an unknown broker with 404', async () => {
    expect(await list('?limit=0')).toEqual({
      status: 400,
      body: { error: 'invalid_request', error_description: 'limit must be a whole number from 1 to 1000' },
    })
    expect(await list('?revoked=yes')).toEqual({ status: 400, body: { error: 'invalid_request', error_description: 'revoked must be true or false' } })
    expect(await list('?issuedAfter=yesterday')).toEqual({
      status: 400,
      body: { error: 'invalid_request', error_description: 'issuedAfter must be epoch seconds or an ISO 8601 time such as 2030-01-31T12:00:00Z' },
    })
    expect(await list('?source=cli')).toEqual({ status: 400, body: { error: 'invalid_request', error_description: 'source must be admin or exchange' } })
    expect(await list('?cursor=bm90IGEgY3Vyc29y')).toEqual({
      status: 400,
      body: { error: 'invalid_request', error_description: "cursor is not one this API gave out (use the answer's next)" },
    })
    expect(await list('?clientId=a&clientId=b')).toEqual({
      status: 400,
      body: { error: 'invalid_request', error_description: 'parameter clientId must be given once' },
    })
    expect(await list('', 'nope')).toEqual({ status: 404, body: { error: 'not_found', error_description: 'unknown broker "nope"' } })
  })

  it('is for admins of that broker only', async () => {
    const scoped = await idp.accessToken(ex.exchange.issuer, { scope: 'mqtt-oidc:admin:broker:other' })
    expect((await ex.api('GET', '/admin/brokers/demo/credentials', undefined, scoped)).status).toBe(403)
    expect((await ex.api('GET', '/admin/brokers/other/credentials', undefined, scoped)).status).toBe(200)
    expect((await fetch(`${ex.url}/admin/brokers/demo/credentials`)).status).toBe(401)
  })
})

describe('GET /admin/brokers/:id/revocations/history', () => {
  it('lists revoke and unrevoke events newest first with the client id, paged with next as before', async () => {
    const jtis = await issue(['gw-1', 'gw-2'])
    await ex.api('POST', '/admin/brokers/demo/revocations', { jtis: [jtis['gw-1']] })
    clock += 5
    await ex.api('POST', '/admin/brokers/demo/revocations', { jtis: [jtis['gw-2']] })
    clock += 5
    await ex.api('DELETE', '/admin/brokers/demo/revocations', { jtis: [jtis['gw-1']] })
    const res = await ex.api('GET', '/admin/brokers/demo/revocations/history?limit=2')
    expect(await res.json()).toEqual({
      broker: 'demo',
      revision: 3,
      events: [
        { revision: 3, jti: jtis['gw-1'], clientId: 'gw-1', action: 'unrevoke', at: 1_800_000_010, expiresAt: 1_800_604_800 },
        { revision: 2, jti: jtis['gw-2'], clientId: 'gw-2', action: 'revoke', at: 1_800_000_005, expiresAt: 1_800_604_800 },
      ],
      next: '2',
    })
    const rest = (await (await ex.api('GET', '/admin/brokers/demo/revocations/history?limit=2&before=2')).json()) as {
      events: Array<{ revision: number }>
      next: unknown
    }
    expect(rest.events.map((e) => e.revision)).toEqual([1])
    expect(rest.next).toBeNull()
  })
})

describe('POST /admin/brokers/:id/revocations with clientIds', () => {
  const revoke = async (body: unknown, method = 'POST'): Promise<{ status: number; body: unknown }> => {
    const res = await ex.api(method, '/admin/brokers/demo/revocations', body)
    return { status: res.status, body: await res.json() }
  }

  it("revokes every live credential of the client id, and only those: not its expired or revoked ones, not other client ids'", async () => {
    const expired = await issue(['gw-1'], { expiration: 60 })
    clock += 100
    const first = await issue(['gw-1', 'gw-2'], { expiration: '1h' })
    clock += 1
    const second = await issue(['gw-1'], { expiration: -1 })
    const revokedBefore = await issue(['gw-1'])
    await ex.api('POST', '/admin/brokers/demo/revocations', { jtis: [revokedBefore['gw-1']] })
    const revision = ((await (await ex.api('GET', '/admin/brokers/demo/revocations/history?limit=1')).json()) as { revision: number }).revision

    expect(await revoke({ clientIds: ['gw-1'] })).toEqual({ status: 200, body: { revision: revision + 2, revoked: [second['gw-1'], first['gw-1']] } })
    const states = Object.fromEntries(((await list('?clientId=gw-1')).body.credentials as Array<{ jti: string; state: string }>).map((c) => [c.jti, c.state]))
    expect(states).toEqual({ [expired['gw-1']!]: 'expired', [first['gw-1']!]: 'revoked', [second['gw-1']!]: 'revoked', [revokedBefore['gw-1']!]: 'revoked' })
    expect((await list('?clientId=gw-2')).body.credentials).toMatchObject([{ jti: first['gw-2'], state: 'live' }])
  })

  it('takes jtis and client ids together, and answers an empty change when a client id has nothing live', async () => {
    const a = await issue(['gw-1', 'gw-2'])
    expect(await revoke({ jtis: [a['gw-2']], clientIds: ['gw-1'] })).toEqual({ status: 200, body: { revision: 2, revoked: [a['gw-2'], a['gw-1']] } })
    expect(await revoke({ clientIds: ['gw-1', 'gw-2'] })).toEqual({ status: 200, body: { revision: 2, revoked: [] } })
  })

  it('answers 404 naming every client id the broker has no credential of, and revokes nothing', async () => {
    const a = await issue(['gw-1'])
    await issue(['elsewhere'], {}, 'other')
    expect(await revoke({ clientIds: ['gw-1', 'nope', 'elsewhere'] })).toEqual({
      status: 404,
      body: { error: 'not_found', error_description: 'no credential of broker "demo" has client id: nope, elsewhere' },
    })
    expect((await list(`?jti=${a['gw-1']}`)).body.credentials).toMatchObject([{ state: 'live' }])
  })

  it('refuses an empty or oversized list, and client ids when lifting revocations', async () => {
    expect(await revoke({ clientIds: [] })).toEqual({
      status: 400,
      body: { error: 'invalid_request', error_description: 'clientIds must list at least one client id' },
    })
    expect(await revoke({ clientIds: Array.from({ length: 101 }, (_, i) => `c${i}`) })).toEqual({
      status: 400,
      body: { error: 'invalid_request', error_description: 'clientIds must list at most 100 client ids' },
    })
    expect(await revoke({ clientIds: ['gw-1'] }, 'DELETE')).toEqual({
      status: 400,
      body: { error: 'invalid_request', error_description: 'clientIds is for revoking; lift revocations by jti' },
    })
  })
})
