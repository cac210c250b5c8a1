import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { decodeJwt } from 'jose'
import { ensureBroker } from '../src/ensure-broker.js'
import { startExchange } from './support/harness.js'
import type { Running } from './support/harness.js'
import { startTestIdp } from '@mqtt-oidc/test-support/test-idp'
import type { TestIdp } from '@mqtt-oidc/test-support/test-idp'
import { until } from '@mqtt-oidc/test-support/until'

let idp: TestIdp
let ex: Running
let jtis: string[]
let exps: Record<string, number | null>

beforeAll(async () => {
  idp = await startTestIdp()
})
afterAll(async () => {
  await idp.close()
})
beforeEach(async () => {
  ex = await startExchange(idp)
  await ensureBroker(ex.store, { id: 'demo' })
  const res = await ex.api('POST', '/admin/brokers/demo/credentials', { number: 3, expiration: '1h' })
  const claims = Object.values((await res.json()) as Record<string, string>).map((t) => decodeJwt(t))
  jtis = claims.map((c) => c.jti!)
  exps = Object.fromEntries(claims.map((c) => [c.jti!, c.exp ?? null]))
})
afterEach(async () => {
  await ex.close()
})

const call = async (method: string, path: string, body?: unknown): Promise<{ status: number; body: unknown }> => {
  const res = await ex.api(method, path, body)
  return { status: res.status, body: await res.json() }
}

describe('/admin/brokers/:id/revocations', () => {
  it('revokes several jtis at once, lists them, and bumps the revision per change', async () => {
    const [a, b] = jtis as [string, string]
    expect(await call('POST', '/admin/brokers/demo/revocations', { jtis: [a, b] })).toEqual({ status: 200, body: { revision: 2, revoked: [a, b] } })
    const listed = await call('GET', '/admin/brokers/demo/revocations')
    expect(listed.status).toBe(200)
    expect(listed.body).toEqual(
      expect.arrayContaining([
        { jti: a, revokedAt: expect.any(Number), expiresAt: exps[a] },
        { jti: b, revokedAt: expect.any(Number), expiresAt: exps[b] },
      ]),
    )
    expect(listed.body).toHaveLength(2)
    expect(await ex.store.revocations.isRevoked('demo', a)).toBe(true)
  })

  it('is idempotent: revoking twice changes nothing the second time', async () => {
    const [a] = jtis as [string]
    await call('POST', '/admin/brokers/demo/revocations', { jtis: [a] })
    expect(await call('POST', `/admin/brokers/demo/revocations?jti=${a}`)).toEqual({ status: 200, body: { revision: 1, revoked: [] } })
  })

  it('unrevokes with ?jti= and bumps the revision', async () => {
    const [a, b] = jtis as [string, string]
    await call('POST', '/admin/brokers/demo/revocations', { jtis: [a, b] })
    expect(await call('DELETE', `/admin/brokers/demo/revocations?jti=${a}`)).toEqual({ status: 200, body: { revision: 3, unrevoked: [a] } })
    expect(await ex.store.revocations.isRevoked('demo', a)).toBe(false)
    expect(await call('DELETE', '/admin/brokers/demo/revocations', { jtis: [a] })).toEqual({ status: 200, body: { revision: 3, unrevoked: [] } })
  })

  it('answers 404 naming every unknown jti and revokes nothing', async () => {
    const [a] = jtis as [string]
    expect(await call('POST', '/admin/brokers/demo/revocations', { jtis: [a, 'nope-1', 'nope-2'] })).toEqual({
      status: 404,
      body: { error: 'not_found', error_description: 'unknown jti for broker "demo": nope-1, nope-2' },
    })
    expect(await ex.store.revocations.list('demo')).toEqual([])
    expect(await ex.store.revocations.revision('demo')).toBe(0)
  })

  it('does not accept a jti issued for another broker', async () => {
    await ensureBroker(ex.store, { id: 'other' })
    expect(await call('POST', '/admin/brokers/other/revocations', { jtis: [jtis[0]] })).toEqual({
      status: 404,
      body: { error: 'not_found', error_description: `unknown jti for broker "other": ${jtis[0]}` },
    })
  })

  it('refuses a request without jtis', async () => {
    expect(await call('POST', '/admin/brokers/demo/revocations', {})).toEqual({
      status: 400,
      body: { error: 'invalid_request', error_description: 'jtis must list at least one jti' },
    })
  })
})

describe('pruning', () => {
  it('drops the records and revocations of tokens expired over an hour ago, and keeps the rest', async () => {
    let t = Math.floor(Date.now() / 1000)
    const pruning = await startExchange(idp, { now: () => t, pruneIntervalMs: 50 })
    try {
      await ensureBroker(pruning.store, { id: 'demo' })
      const issue = async (expiration: unknown): Promise<string> => {
        const res = await pruning.api('POST', '/admin/brokers/demo/credentials', { clientIds: ['c'], expiration })
        return decodeJwt(((await res.json()) as Record<string, string>).c!).jti!
      }
      const [short, long, never] = [await issue('1h'), await issue('3h'), await issue(-1)]
      await pruning.api('POST', '/admin/brokers/demo/revocations', { jtis: [short, long, never] })
      t += 2 * 3600 + 1 // short expired 1 h 1 s ago
      await until(async () => (await pruning.store.credentials.get('demo', short)) === undefined)
      expect((await pruning.store.revocations.list('demo')).map((r) => r.jti).sort()).toEqual([long, never].sort())
      expect(await pruning.store.credentials.get('demo', long)).toMatchObject({ jti: long })
      expect(await pruning.store.credentials.get('demo', never)).toMatchObject({ jti: never })
      expect(await pruning.store.revocations.revision('demo')).toBe(3)
    } finally {
      await pruning.close()
    }
  })
})
