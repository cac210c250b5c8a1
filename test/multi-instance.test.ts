/**
 * Several instances of every service on one PostgreSQL (started by the test):
 * 2 IdPs and 2 exchanges in-process, each with its own connection pool as if
 * it were its own process, behind small TCP load balancers that give them one
 * public URL each, and 2 aedes nodes of the same broker sharing subscriptions
 * and sessions through Redis (started by the test): node A follows the
 * exchanges through the balancer, node B follows exchange 2 directly.
 */
import { decodeJwt, decodeProtectedHeader } from 'jose'
import { connectAsync, type MqttClient } from 'mqtt'
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer, connect as connectTcp, type Server, type Socket } from 'node:net'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { createAdminClient, discoverIssuer, exchangeToken, loginWithDeviceFlow, type AdminClient } from '@mqtt-oidc/client'
import type { Store } from '@mqtt-oidc/core'
import { openStore, withStartupLock } from '@mqtt-oidc/store'
import { createAccount, createClientIdLeases, createIdp, ensureDemoAccount, loadOrCreateAdminClient, type Idp } from '@mqtt-oidc/idp'
import { createExchange, ensureBroker, type Exchange } from '@mqtt-oidc/exchange'
import { createBroker, type Broker } from '@mqtt-oidc/broker'
import { completeDeviceLogin } from '@mqtt-oidc/test-support/idp-user-agent'
import { startPostgres, type TestPostgres } from '@mqtt-oidc/test-support/start-postgres'
import { startRedis, type TestRedis } from '@mqtt-oidc/test-support/start-redis'
import { runCliInProcess as runCliIn } from './support/run-cli-in-process.js'
import { until as untilWithin } from '@mqtt-oidc/test-support/until'

const until = (check: () => Promise<boolean>): Promise<void> => untilWithin(check, 15_000)

/** A TCP load balancer on loopback: new connections go to the pinned backend, else the next live one. */
interface Balancer {
  readonly url: string
  backends: number[]
  /** Sends new connections to backends[i] first (open ones stay where they are). */
  pin(i: number): void
  close(): Promise<void>
}

async function startBalancer(): Promise<Balancer> {
  const open = new Set<Socket>()
  let first = 0
  const balancer = { backends: [] as number[] } as { backends: number[] }
  const server: Server = createServer((client) => {
    open.add(client)
    client.on('close', () => open.delete(client))
    client.on('error', () => client.destroy())
    client.pause()
    const order = balancer.backends.map((_, k) => balancer.backends[(first + k) % balancer.backends.length]!)
    const attempt = (k: number): void => {
      const port = order[k]
      if (port === undefined) { client.destroy(); return }
      const upstream = connectTcp(port, '127.0.0.1')
      upstream.once('error', () => { if (!upstream.remoteAddress || upstream.connecting) attempt(k + 1); else client.destroy() })
      upstream.once('connect', () => {
        open.add(upstream)
        upstream.on('close', () => { open.delete(upstream); client.destroy() })
        client.on('close', () => upstream.destroy())
        client.pipe(upstream).pipe(client)
        client.resume()
      })
    }
    attempt(0)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return Object.assign(balancer, {
    url: `http://127.0.0.1:${port}`,
    pin(i: number) {
      first = i
    },
    async close() {
      for (const s of open) s.destroy()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  })
}

// IdP key reload and exchange JWKS refetch cooldown scaled down from the defaults (60 s, 30 s);
// the rotation lead (default 300 s) is passed by moving the clock, so a slow machine cannot blur the order.
const KEY_RELOAD = 0.25
const JWKS_COOLDOWN_MS = 1000
const ROTATION_LEAD = 3600

let pg: TestPostgres
let redis: TestRedis
let dir: string
const stores: Store[] = []
const closers: Array<() => Promise<void>> = []
let idpLb: Balancer
let exchangeLb: Balancer
let idps: Idp[]
let exchanges: Exchange[]
let exchangeUrls: string[]
let nodeA: { broker: Broker; url: string }
let nodeB: { broker: Broker; url: string }
let demo: { username: string; password: string; clientId: string }
let admin: AdminClient
/** The demo broker's revocation-feed credential. */
let feedCredential: string
let idToken: string
/** A jti revoked through exchange 1 before it closed. */
let revokedOnOne: string

async function login(username = demo.username, password = demo.password): Promise<string> {
  const config = await discoverIssuer(idpLb.url, 'mqtt-oidc-cli')
  const tokens = await loginWithDeviceFlow(config, {
    onPrompt: async ({ verificationUriComplete }) => { await completeDeviceLogin({ verificationUriComplete, username, password }) },
  })
  if (!tokens.idToken) throw new Error('no ID token')
  return tokens.idToken
}

async function connectTo(url: string, token: string): Promise<MqttClient> {
  const sub = decodeJwt(token).sub!
  return connectAsync(url, { clientId: sub, username: sub, password: token, reconnectPeriod: 0, protocolVersion: 4 })
}

async function startNode(exchangeUrl: string, issuer: string): Promise<{ broker: Broker; url: string }> {
  const broker = createBroker({ brokerId: 'demo', exchangeUrl, issuer, feedCredential, redisUrl: redis.url, host: '127.0.0.1', mqttPort: 0, wsPort: 0, logLevel: 'silent' })
  const { mqttUrl } = await broker.listen()
  closers.push(() => broker.close())
  return { broker, url: mqttUrl }
}

beforeAll(async () => {
  ;[pg, redis] = await Promise.all([startPostgres(), startRedis()])
  const url = await pg.createDatabase()
  dir = mkdtempSync(join(tmpdir(), 'mqtt-oidc-multi-'))
  idpLb = await startBalancer()
  exchangeLb = await startBalancer()
  closers.push(() => idpLb.close(), () => exchangeLb.close())

  // Four "processes" open the store at once: the migrations must run exactly once.
  stores.push(...await Promise.all([1, 2, 3, 4].map(() => openStore({ url, dataDir: dir, file: 'unused.sqlite' }))))
  const [idpStore1, idpStore2, exchangeStore1, exchangeStore2] = stores as [Store, Store, Store, Store]

  const adminClient = loadOrCreateAdminClient(dir, { issuer: idpLb.url, exchange: exchangeLb.url })
  demo = await ensureDemoAccount(idpStore1, dir)
  idps = [idpStore1, idpStore2].map((store) => createIdp({
    store, issuer: idpLb.url, port: 0, exchangeUrl: exchangeLb.url, adminClient,
    cookieKeys: ['multi-instance-cookie-key-0123456789'], devicePollInterval: 1, logLevel: 'silent', keyReloadSeconds: KEY_RELOAD,
  }))
  // Started together, as an orchestrator would: the startup lock lets the first one create the keys.
  const idpPorts = (await Promise.all(idps.map((idp) => withStartupLock(url, 'idp-start', () => idp.listen())))).map((a) => a.port)
  for (const idp of idps) closers.push(() => idp.close())
  idpLb.backends = idpPorts

  await ensureBroker(exchangeStore1, { id: 'demo', url: 'mqtt://127.0.0.1' })
  // Each exchange verifies ID tokens with the keys one IdP instance serves: exchange 2 with IdP 2's.
  exchanges = [exchangeStore1, exchangeStore2].map((store, i) => createExchange({
    store, issuer: exchangeLb.url, port: 0, logLevel: 'silent',
    idp: { issuer: idpLb.url, jwksUri: `http://127.0.0.1:${idpPorts[i]}/jwks`, clientIds: ['mqtt-oidc-cli'], jwksCooldownMs: JWKS_COOLDOWN_MS },
  }))
  const bound = await Promise.all(exchanges.map((e) => withStartupLock(url, 'exchange-start', () => e.listen())))
  closers.push(...exchanges.map((e) => () => e.close()))
  exchangeUrls = bound.map((b) => b.url)
  exchangeLb.backends = bound.map((b) => b.port)

  admin = createAdminClient({ adminCredentials: adminClient })
  // One feed credential for the broker, issued through the balancer, kept in PostgreSQL: both exchanges accept it.
  feedCredential = (await admin.issueFeedCredential('demo')).feedCredential
  nodeA = await startNode(exchangeLb.url, exchangeLb.url)
  nodeB = await startNode(exchangeUrls[1]!, exchangeLb.url)
}, 60_000)

afterAll(async () => {
  for (const close of closers.reverse()) await close().catch(() => {})
  for (const store of stores) await store.close().catch(() => {})
  await pg?.stop()
  await redis?.stop()
  if (dir) rmSync(dir, { recursive: true, force: true })
})

describe('two IdPs and two exchanges on one PostgreSQL', () => {
  it('serves the same IdP keys from both IdP instances, created once though both started together', async () => {
    const [a, b] = await Promise.all(idps.map((_, i) => fetch(`http://127.0.0.1:${idpLb.backends[i]}/jwks`).then((r) => r.json())))
    expect(a).toEqual(b)
    const kids = (await stores[0]!.keys.list('idp')).map((k) => k.kid)
    expect(new Set(kids).size).toBe(kids.length)
    expect((a as { keys: Array<{ kid: string }> }).keys.map((k) => k.kid).sort()).toEqual([...kids].sort())
  })

  it('rotates the IdP keys once, through the CLI and the admin API of whichever instance the balancer picks: both instances publish them, then sign with them, without a restart', async () => {
    const jwksOf = async (i: number) => (await (await fetch(`http://127.0.0.1:${idpLb.backends[i]}/jwks`)).json()) as { keys: Array<{ kid: string; key_ops?: string[] }> }
    const env = { dataDir: dir, configDir: join(dir, 'cli') }
    const added = await runCliIn(['users', 'add', 'carol', '--client-id', 'carol-gw'], env, 'carol-password-1\n')
    expect(added.code, added.stderr).toBe(0)
    const rotated = await runCliIn(['idp', 'keys', 'rotate', '--lead', String(ROTATION_LEAD)], env)
    expect(rotated.code, rotated.stderr).toBe(0)
    const { added: kids, activatesAt } = JSON.parse(rotated.stdout) as { added: string[]; activatesAt: number }

    // Published (verify-only) by both instances at once...
    await until(async () => (await Promise.all([0, 1].map(jwksOf))).every((j) => kids.every((kid) => j.keys.some((k) => k.kid === kid && k.key_ops?.[0] === 'verify'))))
    // ...then, once the clock passes the activation (the reload timers are real), signing on both.
    vi.useFakeTimers({ toFake: ['Date'], now: (activatesAt + 1) * 1000 })
    try {
      await until(async () => (await Promise.all([0, 1].map(jwksOf))).every((j) => j.keys[0]?.kid === kids[0] && j.keys[0]?.key_ops === undefined))

      // The account the CLI added signs in through IdP 2 with the new key; exchange 1 (verifying with IdP 1's JWKS) accepts it.
      idpLb.pin(1)
      const carol = await login('carol', 'carol-password-1')
      idpLb.pin(0)
      expect(decodeProtectedHeader(carol).kid).toBe(kids[0])
      expect(decodeJwt(carol)).toMatchObject({ clientid: 'carol-gw', username: 'carol' })
      const exchanged = await exchangeToken({ exchangeUrl: exchangeUrls[0]!, broker: 'demo', subjectToken: carol })
      expect(exchanged.clientId).toBe('carol-gw')
    } finally {
      // Back to now: the old keys sign again until the real activation, an hour away.
      vi.useRealTimers()
      await until(async () => (await Promise.all([0, 1].map(jwksOf))).every((j) => j.keys[0]?.kid !== kids[0]))
    }
  }, 30_000)

  it('hands each sign-in of a per-login account its own client id, even when both IdPs lease at the same moment', async () => {
    const [store1, store2] = stores as [Store, Store]
    const account = await createAccount(store1, { username: 'fleet', password: 'fleet-password-1', clientIds: ['gw-1', 'gw-2', 'gw-3', 'gw-4'] })
    const now = Math.floor(Date.now() / 1000)
    const grants = Array.from({ length: 8 }, (_, i) => `grant-${i}`)
    for (const id of grants) await store1.oidc.upsert('Grant', id, { accountId: account.id, exp: now + 3600 }, 3600)
    // The lease logic of each IdP instance, on its own store handle, all at once.
    const leases = [createClientIdLeases(store1), createClientIdLeases(store2)]
    const ids = await Promise.all(grants.map((grant, i) => leases[i % 2]!.clientIdFor(account, grant)))
    expect(new Set(ids).size).toBe(8)
    expect(ids.filter((id) => /^gw-\d$/.test(id ?? '')).sort()).toEqual(['gw-1', 'gw-2', 'gw-3', 'gw-4'])
    expect(ids.filter((id) => /^gw-1-[a-z2-7]{10}$/.test(id ?? ''))).toHaveLength(4)
  })

  it('logs in via IdP 1 (device flow) and exchanges via exchange 2, whose one signing key both exchanges share', async () => {
    idpLb.pin(0)
    idToken = await login()
    expect(decodeJwt(idToken)).toMatchObject({ iss: idpLb.url, clientid: demo.clientId, username: demo.username })

    // Both exchanges sign with the one key the first of them created.
    const [one, two] = await Promise.all(exchangeUrls.map((exchangeUrl) => exchangeToken({ exchangeUrl, broker: 'demo', subjectToken: idToken })))
    const keys = (await stores[2]!.keys.list('exchange')).filter((k) => k.alg === 'EdDSA')
    expect(keys).toHaveLength(1)
    expect([decodeJwt(one!.token).iss, decodeJwt(two!.token).iss]).toEqual([exchangeLb.url, exchangeLb.url])
    const [jwks1, jwks2] = await Promise.all(exchangeUrls.map((u) => fetch(`${u}/.well-known/jwks.json`).then((r) => r.json())))
    expect(jwks1).toEqual(jwks2)
  })

  it('accepts a token issued by one exchange at a broker node following the other', async () => {
    const [viaOne, viaTwo] = await Promise.all(exchangeUrls.map((exchangeUrl) => exchangeToken({ exchangeUrl, broker: 'demo', subjectToken: idToken })))
    const atB = await connectTo(nodeB.url, viaOne!.token)
    const atA = await connectTo(nodeA.url, viaTwo!.token)
    await Promise.all([atA.endAsync(), atB.endAsync()])
  })

  it('delivers a publish on node A to a subscriber on node B (one broker, two nodes, Redis between them)', async () => {
    const broker = await exchangeToken({ exchangeUrl: exchangeUrls[0]!, broker: 'demo', subjectToken: idToken })
    const [pairA, pairB] = Object.entries(await admin.issueCredentials('demo', { clientIds: ['node-a-pub', 'node-b-sub'], expiration: '15m' }))
    const subscriber = await connectTo(nodeB.url, pairB![1])
    await subscriber.subscribeAsync('plant/#', { qos: 1 })
    const received = new Promise<string>((resolve) => subscriber.once('message', (topic, payload) => resolve(`${topic} ${payload.toString()}`)))
    const publisher = await connectTo(nodeA.url, pairA![1])
    await publisher.publishAsync('plant/7/temp', '21.5', { qos: 1 })
    expect(await received).toBe('plant/7/temp 21.5')
    // Each node still enforces the token's ACL on its own connections.
    const device = await connectTo(nodeA.url, broker.token)
    const refused = await device.subscribeAsync('plant/#', { qos: 1 }).then(() => undefined, (err: unknown) => err)
    expect((refused as { packet?: { granted?: unknown } }).packet?.granted).toEqual([128])
    await Promise.all([publisher.endAsync(), subscriber.endAsync(), device.endAsync()])
  })

  it('disconnects a client on the node following exchange 2 when exchange 1 revokes its token', async () => {
    const { token } = await exchangeToken({ exchangeUrl: exchangeUrls[1]!, broker: 'demo', subjectToken: idToken })
    const live = await connectTo(nodeB.url, token)
    const closed = new Promise<void>((resolve) => live.once('close', () => resolve()))
    exchangeLb.pin(0)
    const jti = decodeJwt(token).jti!
    revokedOnOne = jti
    expect((await admin.revoke('demo', [jti])).revoked).toEqual([jti])
    // Pushed over exchange 2's stream from PostgreSQL NOTIFY (the poll fallback is far slower than this test's timeout).
    await closed
    await live.endAsync(true)
    const refused = await connectTo(nodeB.url, token).then(() => 0, (err: { code?: number }) => err.code)
    expect(refused).toBe(4)
  }, 15_000)

  it('disables an account through the CLI and one IdP instance\'s admin API: its session closes, and the other exchange refuses its old ID token', async () => {
    await createAccount(stores[0]!, { username: 'dora', password: 'dora-password', clientIds: ['dora-1'] })
    const doraToken = await login('dora', 'dora-password')
    const { token } = await exchangeToken({ exchangeUrl: exchangeUrls[0]!, broker: 'demo', subjectToken: doraToken })
    const live = await connectTo(nodeB.url, token)
    const closed = new Promise<void>((resolve) => live.once('close', () => resolve()))
    const disabled = await runCliIn(['users', 'disable', 'dora'], { dataDir: dir, configDir: join(dir, 'cli') })
    expect(disabled).toEqual({ code: 0, stdout: '', stderr: 'Disabled dora.\n' })
    await closed
    await live.endAsync(true)
    await expect(exchangeToken({ exchangeUrl: exchangeUrls[1]!, broker: 'demo', subjectToken: doraToken })).rejects.toMatchObject({ message: expect.stringContaining('account is disabled') })
    expect((await runCliIn(['users', 'enable', 'dora'], { dataDir: dir, configDir: join(dir, 'cli') })).code).toBe(0)
    await expect(exchangeToken({ exchangeUrl: exchangeUrls[1]!, broker: 'demo', subjectToken: doraToken }))
      .rejects.toMatchObject({ message: expect.stringContaining('issued before its account was disabled') })
    const fresh = await exchangeToken({ exchangeUrl: exchangeUrls[1]!, broker: 'demo', subjectToken: await login('dora', 'dora-password') })
    await (await connectTo(nodeA.url, fresh.token)).endAsync()
  }, 30_000)

  it('loses nothing when exchange 1 closes: exchange 2 and the balancer keep serving, node A fails over', async () => {
    const { token } = await exchangeToken({ exchangeUrl: exchangeUrls[0]!, broker: 'demo', subjectToken: idToken })
    const jti = decodeJwt(token).jti!
    const liveA = await connectTo(nodeA.url, token)
    const closedA = new Promise<void>((resolve) => liveA.once('close', () => resolve()))
    await exchanges[0]!.close()

    // Everything exchange 1 committed is served by exchange 2 (through the balancer).
    const feed = await fetch(`${exchangeUrls[1]}/brokers/demo/revocations`, { headers: { authorization: `Bearer ${feedCredential}` } })
      .then((r) => r.json()) as { revoked: Array<{ jti: string }> }
    expect(feed.revoked.map((r) => r.jti)).toContain(revokedOnOne)
    const fresh = await exchangeToken({ exchangeUrl: exchangeLb.url, broker: 'demo', subjectToken: idToken })
    const atB = await connectTo(nodeB.url, fresh.token)
    await atB.endAsync()

    // A revocation through the balancer (now exchange 2) still reaches node A, whose feed reconnected through it.
    exchangeLb.pin(1)
    expect((await admin.revoke('demo', [jti])).revoked).toEqual([jti])
    await closedA
    await liveA.endAsync(true)
  }, 30_000)
})
