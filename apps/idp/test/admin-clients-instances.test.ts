import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { pino } from 'pino'
import type { Store } from '@mqtt-oidc/core'
import { createPostgresStore } from '@mqtt-oidc/store'
import { createIdp, type Idp } from '../src/index.js'
import { freePort } from '@mqtt-oidc/test-support/free-port'
import { startPostgres, type TestPostgres } from '@mqtt-oidc/test-support/start-postgres'
import { ADMIN_SECRET, EXCHANGE_URL } from './support/test-idp.js'
import { adminToken } from './support/admin-api.js'

// Two IdP instances on one PostgreSQL database, as behind a load balancer (one
// public issuer URL, each instance its own connection pool). A client registered
// through one is known to the other at once; a change or removal too: no restart.

let pg: TestPostgres
const stores: Store[] = []
const idps: Idp[] = []
const urls: string[] = []
let issuer: string

beforeAll(async () => {
  pg = await startPostgres()
  const database = await pg.createDatabase()
  const port = await freePort()
  issuer = `http://127.0.0.1:${port}`
  for (const listenPort of [port, 0]) {
    const store = await createPostgresStore({ connectionString: database, max: 4 })
    stores.push(store)
    const idp = createIdp({
      store,
      issuer,
      port: listenPort,
      exchangeUrl: EXCHANGE_URL,
      adminClient: { clientId: 'mqtt-oidc-admin', clientSecret: ADMIN_SECRET },
      cookieKeys: ['cookie-key-for-tests-0123456789abcdef'],
      logger: pino({ level: 'silent' }),
    })
    idps.push(idp)
    urls.push(`http://127.0.0.1:${(await idp.listen()).port}`)
  }
}, 60_000)
afterAll(async () => {
  for (const idp of idps) await idp.close()
  for (const store of stores) await store.close()
  await pg?.stop()
})

const deviceAuth = (url: string, clientId: string) =>
  fetch(`${url}/device/auth`, { method: 'POST', body: new URLSearchParams({ client_id: clientId, scope: 'openid' }) })

describe('/admin/clients on several instances sharing PostgreSQL', () => {
  it('a client registered, changed or removed through one instance is so on the other at once', async () => {
    const token = await adminToken(urls[0]!, issuer)
    const api = (url: string, method: string, path: string, body?: unknown) =>
      fetch(`${url}/admin${path}`, {
        method,
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      })
    const [a, b] = urls as [string, string]
    expect((await deviceAuth(b, 'fleet-tool')).status).toBe(401)
    expect((await api(a, 'POST', '/clients', { client_id: 'fleet-tool', application_type: 'native' })).status).toBe(201)
    expect((await deviceAuth(b, 'fleet-tool')).status).toBe(200)

    // Now without the device grant, through the other instance.
    expect(
      (await api(b, 'PATCH', '/clients/fleet-tool', { grant_types: ['authorization_code', 'refresh_token'], redirect_uris: ['http://127.0.0.1/callback'] }))
        .status,
    ).toBe(200)
    expect(await (await deviceAuth(a, 'fleet-tool')).json()).toEqual({
      error: 'invalid_request',
      error_description: 'urn:ietf:params:oauth:grant-type:device_code is not allowed for this client',
    })

    expect((await api(b, 'DELETE', '/clients/fleet-tool')).status).toBe(204)
    expect((await deviceAuth(a, 'fleet-tool')).status).toBe(401)
    expect((await api(a, 'GET', '/clients/fleet-tool')).status).toBe(404)
  })
})
