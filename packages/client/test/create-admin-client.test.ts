import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { decodeJwt } from 'jose'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createSqliteStore } from '@mqtt-oidc/store'
import type { Store } from '@mqtt-oidc/core'
import { createExchange } from '@mqtt-oidc/exchange'
import type { Exchange } from '@mqtt-oidc/exchange'
import { createAdminClient } from '../src/create-admin-client.js'
import type { AdminClient } from '../src/create-admin-client.js'
import { AdminApiError, AdminCredentialsMissing } from '../src/errors.js'
import { startMiniOidc } from '@mqtt-oidc/test-support/mini-oidc'
import type { MiniOidc } from '@mqtt-oidc/test-support/mini-oidc'

let idp: MiniOidc
let exchange: Exchange
let store: Store
let dir: string
let admin: AdminClient

beforeAll(async () => {
  idp = await startMiniOidc()
  dir = mkdtempSync(join(tmpdir(), 'mqtt-oidc-admin-'))
  store = createSqliteStore(join(dir, 'exchange.sqlite'))
  exchange = createExchange({ store, idp: { issuer: idp.issuer }, logLevel: 'silent' })
  const { url } = await exchange.listen()
  writeFileSync(join(dir, 'admin-client.json'), JSON.stringify({ issuer: idp.issuer, exchange: url, ...idp.adminClient }), { mode: 0o600 })
  admin = createAdminClient({ dataDir: dir })
})
afterAll(async () => {
  await exchange.close()
  await store.close()
  await idp.close()
  rmSync(dir, { recursive: true, force: true })
})

describe('createAdminClient against the exchange admin API', () => {
  it('authenticates with client_credentials (client_secret_basic, scope mqtt-oidc:admin) and manages a broker', async () => {
    const created = await admin.createBroker('site-a', { expiration: '7d', url: 'mqtt://localhost:1883' })
    expect(created).toMatchObject({ id: 'site-a', expiration: 604800, url: 'mqtt://localhost:1883' })
    expect(idp.hitCount('grant:client_credentials')).toBe(1)
    expect((await admin.listBrokers()).map((b) => b.id)).toContain('site-a')
    expect(await admin.updateBroker('site-a', { expiration: -1 })).toMatchObject({ id: 'site-a', expiration: null })
    expect(await admin.getBroker('site-a')).toMatchObject({ id: 'site-a', expiration: null })
    expect(idp.hitCount('grant:client_credentials')).toBe(1) // the access token is reused until it nears expiry
  })

  it('issues credentials as a {clientid: token} map and revokes, lists and unrevokes them', async () => {
    await admin.createBroker('site-b')
    const creds = await admin.issueCredentials('site-b', { number: 3, expiration: '48h' })
    expect(Object.keys(creds)).toHaveLength(3)
    for (const [clientId, token] of Object.entries(creds)) {
      expect(clientId).toMatch(/^[0-9A-HJKMNP-TV-Z]{26}$/)
      const claims = decodeJwt(token)
      expect(claims).toMatchObject({ sub: clientId, aud: 'site-b' })
      expect((claims.exp ?? 0) - (claims.iat ?? 0)).toBe(172800)
    }
    const jtis = Object.values(creds).map((t) => decodeJwt(t).jti as string)
    expect(await admin.revoke('site-b', [jtis[0] as string, jtis[1] as string])).toEqual({ revision: expect.any(Number), revoked: [jtis[0], jtis[1]] })
    expect((await admin.listRevocations('site-b')).map((r) => r.jti).sort()).toEqual([jtis[0], jtis[1]].sort())
    expect(await admin.unrevoke('site-b', [jtis[0] as string])).toEqual({ revision: expect.any(Number), unrevoked: [jtis[0]] })
    expect((await admin.listRevocations('site-b')).map((r) => r.jti)).toEqual([jtis[1]])
    // Two of its credentials are live: deleting it takes force, and revokes them.
    await expect(admin.deleteBroker('site-b')).rejects.toMatchObject({ code: 'ERR_ADMIN_API', error: 'conflict', status: 409 })
    expect(await admin.deleteBroker('site-b', { force: true })).toEqual({ id: 'site-b', deleted: true, revoked: 2 })
    expect((await admin.listBrokers()).map((b) => b.id)).not.toContain('site-b')
  })

  it('surfaces API errors as AdminApiError with error, error_description and status', async () => {
    const err = await admin.issueCredentials('no-such-broker').catch((e: unknown) => e)
    expect(err).toBeInstanceOf(AdminApiError)
    expect(err).toMatchObject({ code: 'ERR_ADMIN_API', error: 'not_found', status: 404, error_description: expect.stringContaining('no-such-broker') })
    await expect(admin.issueCredentials('site-a', { number: 101 })).rejects.toMatchObject({
      code: 'ERR_ADMIN_API', error: 'invalid_request', status: 400, error_description: expect.stringContaining('number must be between 1 and 100'),
    })
  })

  it('reports a wrong client secret as the IdP refusing the client', async () => {
    const wrong = createAdminClient({ adminCredentials: { issuer: idp.issuer, exchange: exchange.issuer, clientId: idp.adminClient.clientId, clientSecret: 'wrong' } })
    await expect(wrong.listBrokers()).rejects.toMatchObject({ error: 'invalid_client' })
  })

  it('throws AdminCredentialsMissing naming the file when the data dir has none', () => {
    const empty = mkdtempSync(join(tmpdir(), 'mqtt-oidc-empty-'))
    try {
      expect(() => createAdminClient({ dataDir: empty })).toThrow(AdminCredentialsMissing)
      expect(() => createAdminClient({ dataDir: empty })).toThrow(`admin credentials ${join(empty, 'admin-client.json')} not found: start the stack (pnpm start) or pass --data-dir`)
    } finally {
      rmSync(empty, { recursive: true, force: true })
    }
  })
})
