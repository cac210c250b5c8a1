import { decodeJwt } from 'jose'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { startExchange } from './support/harness.js'
import type { Running } from './support/harness.js'
import { startTestIdp } from '@mqtt-oidc/test-support/test-idp'
import type { TestIdp } from '@mqtt-oidc/test-support/test-idp'

let idp: TestIdp
let ex: Running

beforeAll(async () => { idp = await startTestIdp() })
afterAll(async () => { await idp.close() })
beforeEach(async () => { ex = await startExchange(idp) })
afterEach(async () => { await ex.close() })

const DEFAULT_ACL = { pub: ['devices/${clientid}/#'], sub: ['devices/${clientid}/#'] }
const DEFAULT_POLICY = { clientIdMode: 'claim', aclTemplates: [], maxLifetime: null, rateLimit: null, profile: 'default', allowedIssuers: [], alg: 'EdDSA' }
const brokerShape = (fields: Record<string, unknown>): Record<string, unknown> => ({
  acl: DEFAULT_ACL, expiration: null, url: null, createdAt: expect.any(Number), updatedAt: expect.any(Number), policy: DEFAULT_POLICY, ...fields,
})

describe('/admin/brokers', () => {
  it('creates, lists, gets, updates and deletes a broker', async () => {
    const created = await ex.api('POST', '/admin/brokers', { id: 'plant-1', expiration: '7d', url: 'mqtt://plant.example:1883' })
    expect(created.status).toBe(201)
    expect(await created.json()).toEqual(brokerShape({ id: 'plant-1', expiration: 604800, url: 'mqtt://plant.example:1883' }))

    const listed = await ex.api('GET', '/admin/brokers')
    expect(await listed.json()).toEqual([brokerShape({ id: 'plant-1', expiration: 604800, url: 'mqtt://plant.example:1883' })])

    const patched = await ex.api('PATCH', '/admin/brokers/plant-1', { expiration: 3600 })
    expect(await patched.json()).toEqual(brokerShape({ id: 'plant-1', expiration: 3600, url: 'mqtt://plant.example:1883' }))

    const cleared = await ex.api('PATCH', '/admin/brokers/plant-1', { expiration: -1 })
    expect(await cleared.json()).toEqual(brokerShape({ id: 'plant-1', expiration: null, url: 'mqtt://plant.example:1883' }))
    expect((await ex.store.brokers.get('plant-1'))?.expiration).toBeNull()

    const got = await ex.api('GET', '/admin/brokers/plant-1')
    expect(await got.json()).toEqual(brokerShape({ id: 'plant-1', expiration: null, url: 'mqtt://plant.example:1883' }))

    const deleted = await ex.api('DELETE', '/admin/brokers/plant-1')
    expect({ status: deleted.status, body: await deleted.json() }).toEqual({ status: 200, body: { id: 'plant-1', deleted: true, revoked: 0 } })
    expect(await ex.store.brokers.get('plant-1')).toBeUndefined()
  })

  it('accepts a duration string on update and an ACL on create', async () => {
    const acl = { pub: ['sensors/${clientid}/+'], sub: ['commands/${clientid}/#'] }
    await ex.api('POST', '/admin/brokers', { id: 'b2', acl })
    const res = await ex.api('PATCH', '/admin/brokers/b2', { expiration: '48h' })
    expect(await res.json()).toEqual(brokerShape({ id: 'b2', acl, expiration: 172800 }))
  })

  it('refuses a duplicate broker with 409', async () => {
    await ex.api('POST', '/admin/brokers', { id: 'dup' })
    const res = await ex.api('POST', '/admin/brokers', { id: 'dup' })
    expect({ status: res.status, body: await res.json() })
      .toEqual({ status: 409, body: { error: 'conflict', error_description: 'broker "dup" already exists' } })
  })

  it('answers 404 for an unknown broker', async () => {
    for (const [method, body] of [['GET', undefined], ['PATCH', { expiration: 60 }], ['DELETE', undefined]] as const) {
      const res = await ex.api(method, '/admin/brokers/ghost', body)
      expect({ status: res.status, body: await res.json() })
        .toEqual({ status: 404, body: { error: 'not_found', error_description: 'unknown broker "ghost"' } })
    }
  })

  it('refuses an invalid broker id, duration and unknown fields, listing every problem', async () => {
    const res = await ex.api('POST', '/admin/brokers', { id: 'Bad_Id', expiration: '3 weeks', colour: 'red' })
    expect(res.status).toBe(400)
    const body = await res.json() as { error: string; error_description: string }
    expect(body.error).toBe('invalid_request')
    expect(body.error_description).toContain('id: a broker id is 1-63 lowercase letters')
    expect(body.error_description).toContain('expiration: invalid duration "3 weeks"')
    expect(body.error_description).toContain('colour')
  })

  it('refuses an ACL with an invalid topic filter', async () => {
    const res = await ex.api('POST', '/admin/brokers', { id: 'b3', acl: { pub: ['a/#/b'], sub: [] } })
    expect({ status: res.status, body: await res.json() }).toEqual({
      status: 400, body: { error: 'invalid_request', error_description: 'acl.pub.0: not a valid MQTT topic filter' },
    })
  })

  it('refuses malformed JSON', async () => {
    const res = await fetch(`${ex.url}/admin/brokers`, {
      method: 'POST', headers: { authorization: `Bearer ${ex.admin}`, 'content-type': 'application/json' }, body: '{"id":',
    })
    expect({ status: res.status, body: await res.json() })
      .toEqual({ status: 400, body: { error: 'invalid_request', error_description: 'the request body is not valid JSON' } })
  })

  it('asks for force to delete a broker with live credentials, and then revokes them all', async () => {
    await ex.api('POST', '/admin/brokers', { id: 'plant-2' })
    const issued = await (await ex.api('POST', '/admin/brokers/plant-2/credentials', { clientIds: ['gw-1', 'gw-2', 'gw-3'] })).json() as Record<string, string>
    const [j1, j2, j3] = Object.values(issued).map((t) => decodeJwt(t).jti!)
    await ex.api('POST', '/admin/brokers/plant-2/revocations', { jtis: [j1] })

    const refused = await ex.api('DELETE', '/admin/brokers/plant-2')
    expect({ status: refused.status, body: await refused.json() }).toEqual({
      status: 409,
      body: {
        error: 'conflict',
        error_description: 'broker "plant-2" has 2 live credentials (not expired, not revoked): deleting it revokes them all, ' +
          'which closes their sessions, and they stay refused until they expire, even if a broker "plant-2" is created again. ' +
          'Nothing was changed; confirm with force.',
      },
    })
    expect(await ex.store.brokers.get('plant-2')).toMatchObject({ id: 'plant-2' })
    expect(await ex.store.revocations.isRevoked('plant-2', j2!)).toBe(false)

    const bad = await ex.api('DELETE', '/admin/brokers/plant-2?force=yes')
    expect({ status: bad.status, body: await bad.json() })
      .toEqual({ status: 400, body: { error: 'invalid_request', error_description: 'force must be true or false' } })

    const deleted = await ex.api('DELETE', '/admin/brokers/plant-2?force=true')
    expect({ status: deleted.status, body: await deleted.json() }).toEqual({ status: 200, body: { id: 'plant-2', deleted: true, revoked: 2 } })
    expect(await ex.store.brokers.get('plant-2')).toBeUndefined()

    // Created again: the revocations are still there, and the revision goes on from where it was.
    await ex.api('POST', '/admin/brokers', { id: 'plant-2' })
    const listed = await (await ex.api('GET', '/admin/brokers/plant-2/revocations')).json() as Array<{ jti: string }>
    expect(listed.map((r) => r.jti).sort()).toEqual([j1, j2, j3].sort())
    const fresh = await (await ex.api('POST', '/admin/brokers/plant-2/credentials', { clientIds: ['gw-4'] })).json() as Record<string, string>
    const revoked = await ex.api('POST', '/admin/brokers/plant-2/revocations', { jtis: [decodeJwt(fresh['gw-4']!).jti] })
    expect(await revoked.json()).toEqual({ revision: 4, revoked: [decodeJwt(fresh['gw-4']!).jti] })
    // A token of the deleted broker can never be unrevoked.
    const unrevoke = await ex.api('DELETE', '/admin/brokers/plant-2/revocations', { jtis: [j2] })
    expect({ status: unrevoke.status, body: await unrevoke.json() })
      .toEqual({ status: 404, body: { error: 'not_found', error_description: `unknown jti for broker "plant-2": ${j2}` } })
  })

  it('deletes a broker without force when none of its credentials is live', async () => {
    await ex.api('POST', '/admin/brokers', { id: 'plant-3' })
    const issued = await (await ex.api('POST', '/admin/brokers/plant-3/credentials', { clientIds: ['gw-1'] })).json() as Record<string, string>
    await ex.api('POST', '/admin/brokers/plant-3/revocations', { jtis: [decodeJwt(issued['gw-1']!).jti] })
    const deleted = await ex.api('DELETE', '/admin/brokers/plant-3?force=false')
    expect({ status: deleted.status, body: await deleted.json() }).toEqual({ status: 200, body: { id: 'plant-3', deleted: true, revoked: 0 } })
  })

  it('answers an unexpected failure with a generic server_error', async () => {
    await ex.store.close()
    const res = await ex.api('GET', '/admin/brokers')
    expect({ status: res.status, body: await res.json() }).toEqual({
      status: 500, body: { error: 'server_error', error_description: 'the server could not complete the request' },
    })
  })
})
