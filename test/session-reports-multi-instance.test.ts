/**
 * Session reports with several of everything: two exchanges on one
 * PostgreSQL (started by the test) and two aedes nodes of one broker sharing
 * Redis (started by the test). Node A reports to exchange 1, node B to
 * exchange 2; each exchange lists both nodes' sessions, and an admin stream
 * on exchange 1 sees what node B reported through exchange 2 (LISTEN/NOTIFY).
 */
import { decodeJwt } from 'jose'
import { connectAsync, type MqttClient } from 'mqtt'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Store } from '@mqtt-oidc/core'
import { createSqliteStore, openStore } from '@mqtt-oidc/store'
import { createIdp, loadOrCreateAdminClient } from '@mqtt-oidc/idp'
import { createExchange, ensureBroker, type Exchange } from '@mqtt-oidc/exchange'
import { createBroker } from '@mqtt-oidc/broker'
import { adminApi, type AdminApi } from './support/admin-api.js'
import { freePort } from '@mqtt-oidc/test-support/free-port'
import { startPostgres, type TestPostgres } from '@mqtt-oidc/test-support/start-postgres'
import { startRedis, type TestRedis } from '@mqtt-oidc/test-support/start-redis'
import { until } from '@mqtt-oidc/test-support/until'

interface SessionsView {
  nodes: Array<{ node: string; sessions: number }>
  sessions: Array<{ node: string; clientId: string; jti: string }>
}

let pg: TestPostgres
let redis: TestRedis
let dir: string
const closers: Array<() => Promise<void>> = []
const clients: MqttClient[] = []
let exchangeUrls: string[]
let admins: AdminApi[]
let nodes: Array<{ url: string }>

beforeAll(async () => {
  ;[pg, redis] = await Promise.all([startPostgres(), startRedis()])
  const url = await pg.createDatabase()
  dir = mkdtempSync(join(tmpdir(), 'mqtt-oidc-sessions-multi-'))
  const ports = [await freePort(), await freePort()]
  // One public URL for both exchanges (a load balancer's, in production): the issuer and the admin tokens' audience.
  const issuer = `http://127.0.0.1:${ports[0]}`
  const idpStore = createSqliteStore(join(dir, 'idp.sqlite'))
  closers.push(() => idpStore.close())
  const idpPort = await freePort()
  const idpUrl = `http://127.0.0.1:${idpPort}`
  const adminClient = loadOrCreateAdminClient(dir, { issuer: idpUrl, exchange: issuer })
  const idp = createIdp({
    store: idpStore,
    issuer: idpUrl,
    port: idpPort,
    exchangeUrl: issuer,
    adminClient,
    cookieKeys: ['sessions-multi-cookie-key-0123456789'],
    logLevel: 'silent',
  })
  await idp.listen()
  closers.push(() => idp.close())

  const stores: Store[] = await Promise.all([1, 2].map(() => openStore({ url, dataDir: dir, file: 'unused.sqlite' })))
  closers.push(...stores.map((s) => () => s.close()))
  await ensureBroker(stores[0]!, { id: 'demo' })
  const exchanges: Exchange[] = stores.map((store, i) => createExchange({ store, issuer, port: ports[i], idp: { issuer: idpUrl }, logLevel: 'silent' }))
  exchangeUrls = (await Promise.all(exchanges.map((e) => e.listen()))).map((b) => b.url)
  closers.push(...exchanges.map((e) => () => e.close()))
  admins = exchangeUrls.map((u) => adminApi(dir, u))

  const { feedCredential } = await admins[0]!.send<{ feedCredential: string }>('POST', '/admin/brokers/demo/feed-credential')
  nodes = []
  for (const [i, exchangeUrl] of exchangeUrls.entries()) {
    const broker = createBroker({
      brokerId: 'demo',
      exchangeUrl,
      issuer,
      feedCredential,
      redisUrl: redis.url,
      nodeId: `node-${'ab'[i]}`,
      host: '127.0.0.1',
      mqttPort: 0,
      wsPort: 0,
      logLevel: 'silent',
    })
    const { mqttUrl } = await broker.listen()
    closers.push(() => broker.close())
    nodes.push({ url: mqttUrl })
  }
}, 60_000)

afterAll(async () => {
  for (const c of clients) await c.endAsync(true).catch(() => {})
  for (const close of closers.reverse()) await close().catch(() => {})
  await pg?.stop()
  await redis?.stop()
  if (dir) rmSync(dir, { recursive: true, force: true })
})

async function connect(node: number, clientId: string): Promise<{ client: MqttClient; jti: string }> {
  const issued = await admins[0]!.send<Record<string, string>>('POST', '/admin/brokers/demo/credentials', { clientIds: [clientId], expiration: '1h' })
  const token = issued[clientId]!
  const client = await connectAsync(nodes[node]!.url, { clientId, username: clientId, password: token, reconnectPeriod: 0 })
  clients.push(client)
  return { client, jti: decodeJwt(token).jti! }
}

const where = async (exchange: number): Promise<string[]> =>
  (await admins[exchange]!.get<SessionsView>('/admin/brokers/demo/sessions')).sessions.map((s) => `${s.node}:${s.clientId}`).sort()

describe('session reports on two exchanges (PostgreSQL) from two aedes nodes (Redis)', () => {
  it("lists both nodes' sessions on either exchange, each under its own node", async () => {
    await connect(0, 'multi-a')
    await connect(1, 'multi-b')
    await until(async () => (await where(0)).length === 2)
    expect(await where(0)).toEqual(['node-a:multi-a', 'node-b:multi-b'])
    expect(await where(1)).toEqual(['node-a:multi-a', 'node-b:multi-b'])
  })

  it('streams on exchange 1 what node B reported through exchange 2, and the drop of a session revoked through exchange 2', async () => {
    const res = await fetch(`${exchangeUrls[0]}/admin/brokers/demo/sessions/stream?search=stream-`, {
      headers: { authorization: `Bearer ${await admins[0]!.token()}` },
    })
    const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader()
    let seen: string[] = []
    let buffer = ''
    const nextEvent = async (): Promise<void> => {
      for (;;) {
        const m = /event: sessions\ndata: (.*)\n\n/.exec(buffer)
        if (m) {
          buffer = buffer.slice(m.index + m[0].length)
          seen = (JSON.parse(m[1]!) as SessionsView).sessions.map((s) => `${s.node}:${s.clientId}`)
          return
        }
        const { done, value } = await reader.read()
        if (done) throw new Error('the stream ended')
        buffer += value
      }
    }
    await nextEvent()
    expect(seen).toEqual([])
    const { client, jti } = await connect(1, 'stream-b')
    while (seen.length === 0) await nextEvent()
    expect(seen).toEqual(['node-b:stream-b'])
    const closed = new Promise<void>((resolve) => client.once('close', () => resolve()))
    await admins[1]!.send('POST', '/admin/brokers/demo/revocations', { jtis: [jti] })
    await closed
    while (seen.length > 0) await nextEvent()
    expect(seen).toEqual([])
    await reader.cancel()
  })
})
