/**
 * Replicas started together on an empty PostgreSQL, as an orchestrator
 * starts them (no start-up lock around them): two IdPs and two exchanges,
 * each with its own connection pool. Their stores read the key records
 * slowly (as a busy database would), so every instance has looked at the
 * empty store before any of them has written a key. They must still agree
 * on one key per algorithm: a token either replica signs verifies against
 * the other replica's JWKS, which is what a broker or exchange following
 * only one of them fetches. Then two IdP processes on one data directory
 * as well (a shared volume): both must come up, with one demo account and
 * the admin secret on disk.
 */
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify, type JSONWebKeySet } from 'jose'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Store } from '@mqtt-oidc/core'
import { createPostgresStore } from '@mqtt-oidc/store'
import { createIdp, loadOrCreateAdminClient, type Idp } from '@mqtt-oidc/idp'
import { createExchange, ensureBroker, HMAC_RELOAD_SECONDS, type Exchange } from '@mqtt-oidc/exchange'
import { adminApi, type AdminApi } from './support/admin-api.js'
import { startNode, type RunningProcess } from '@mqtt-oidc/test-support/run-tsx'
import { until } from '@mqtt-oidc/test-support/until'
import { freePort } from '@mqtt-oidc/test-support/free-port'
import { startPostgres, type TestPostgres } from '@mqtt-oidc/test-support/start-postgres'

let pg: TestPostgres
let dir: string
const stores: Store[] = []
const closers: Array<() => Promise<void>> = []
let idpUrls: string[]
let exchangeUrls: string[]
let idpIssuer: string
let exchangeIssuer: string

/** The store as an instance sees it, its key records read 300 ms late. */
const readingKeysSlowly = (store: Store): Store => ({
  ...store,
  keys: {
    ...store.keys,
    list: async (owner) => {
      await sleep(300)
      return store.keys.list(owner)
    },
  },
})

beforeAll(async () => {
  pg = await startPostgres()
  const database = await pg.createDatabase()
  dir = mkdtempSync(join(tmpdir(), 'mqtt-oidc-replicas-'))
  stores.push(...(await Promise.all([1, 2, 3, 4].map(() => createPostgresStore({ connectionString: database, max: 4 })))))
  const [idpStore1, idpStore2, exchangeStore1, exchangeStore2] = stores.map(readingKeysSlowly) as [Store, Store, Store, Store]
  // One public URL per service (a load balancer's, in production): the first replica listens on it.
  const [idpPort, exchangePort] = [await freePort(), await freePort()]
  idpIssuer = `http://127.0.0.1:${idpPort}`
  exchangeIssuer = `http://127.0.0.1:${exchangePort}`
  const adminClient = loadOrCreateAdminClient(dir, { issuer: idpIssuer, exchange: exchangeIssuer })
  await ensureBroker(stores[2]!, { id: 'demo' })
  const idps: Idp[] = [idpStore1, idpStore2].map((store, i) =>
    createIdp({
      store,
      issuer: idpIssuer,
      port: i === 0 ? idpPort : 0,
      exchangeUrl: exchangeIssuer,
      adminClient,
      cookieKeys: ['replicas-cookie-key-0123456789abcdef'],
      logLevel: 'silent',
    }),
  )
  const exchanges: Exchange[] = [exchangeStore1, exchangeStore2].map((store, i) =>
    createExchange({ store, issuer: exchangeIssuer, port: i === 0 ? exchangePort : 0, idp: { issuer: idpIssuer }, logLevel: 'silent' }),
  )
  // All four at once, as `docker compose up --scale` or a Deployment's rollout would start them.
  const [idpBound, exchangeBound] = await Promise.all([Promise.all(idps.map((idp) => idp.listen())), Promise.all(exchanges.map((e) => e.listen()))])
  closers.push(...idps.map((idp) => () => idp.close()), ...exchanges.map((e) => () => e.close()))
  idpUrls = idpBound.map((b) => `http://127.0.0.1:${b.port}`)
  exchangeUrls = exchangeBound.map((b) => b.url)
}, 60_000)

afterAll(async () => {
  for (const close of closers.reverse()) await close().catch(() => {})
  for (const store of stores) await store.close().catch(() => {})
  await pg?.stop()
  if (dir) rmSync(dir, { recursive: true, force: true })
})

const jwks = async (url: string): Promise<JSONWebKeySet> => (await (await fetch(url)).json()) as JSONWebKeySet

describe('replicas started together on an empty PostgreSQL', () => {
  it("the two IdPs created one key per algorithm and publish the same JWKS; an admin token from one verifies with the other's", async () => {
    expect((await stores[0]!.keys.list('idp')).map((r) => r.alg).sort()).toEqual(['ES256', 'EdDSA', 'RS256'])
    const [one, two] = await Promise.all(idpUrls.map((u) => jwks(`${u}/jwks`)))
    expect(two).toEqual(one)
    const token = await adminApi(dir, exchangeUrls[0]!).token()
    await expect(jwtVerify(token, createLocalJWKSet(two!), { issuer: idpIssuer, audience: exchangeIssuer })).resolves.toBeDefined()
  })

  it("the two exchanges created one signing key and publish the same JWKS; a credential either issues verifies with the other's", async () => {
    expect((await stores[0]!.keys.list('exchange')).map((r) => r.alg)).toEqual(['EdDSA'])
    const published = await Promise.all(exchangeUrls.map((u) => jwks(`${u}/.well-known/jwks.json`)))
    expect(published[1]).toEqual(published[0])
    for (const [i, url] of exchangeUrls.entries()) {
      const clientId = `replica-${i}`
      const issued = await adminApi(dir, url).send<Record<string, string>>('POST', '/admin/brokers/demo/credentials', {
        clientIds: [clientId],
        expiration: '1h',
      })
      const other = published[1 - i]!
      expect(other.keys.map((k) => k.kid)).toContain(decodeProtectedHeader(issued[clientId]!).kid)
      await expect(jwtVerify(issued[clientId]!, createLocalJWKSet(other), { issuer: exchangeIssuer, audience: 'demo' })).resolves.toBeDefined()
    }
  })

  it("a broker's HMAC secret made at one exchange signs at the other at once; a new one made there retires it and signs at the first within 5 s; two made at once leave one current", async () => {
    const [one, two] = exchangeUrls.map((u) => adminApi(dir, u)) as [AdminApi, AdminApi]
    const live = async (): Promise<string[]> =>
      (await stores[0]!.keys.list('exchange')).filter((r) => r.kid.startsWith('hs256.hmac-b.') && r.retiredAt === null).map((r) => r.privateJwk.k as string)
    /** A credential for hmac-b issued at `api`, verified with `secret`. */
    const signedWith = async (api: AdminApi, secret: string): Promise<boolean> => {
      const token = (await api.send<Record<string, string>>('POST', '/admin/brokers/hmac-b/credentials', { clientIds: ['hmac-client'], expiration: '1h' }))[
        'hmac-client'
      ]!
      return jwtVerify(token, Buffer.from(secret, 'base64url'), { algorithms: ['HS256'], audience: 'hmac-b' }).then(
        () => true,
        () => false,
      )
    }
    const created = await one.send<{ hmacSecret: string }>('POST', '/admin/brokers', { id: 'hmac-b', policy: { alg: 'HS256' } })
    expect(await live()).toEqual([created.hmacSecret])
    // at once at the other exchange, which had not loaded the broker's secret
    expect(await signedWith(two, created.hmacSecret)).toBe(true)
    const rotated = await two.send<{ hmacSecret: string }>('POST', '/admin/brokers/hmac-b/hmac-secret')
    expect(await live()).toEqual([rotated.hmacSecret])
    // the first exchange signs with the new secret within HMAC_RELOAD_SECONDS
    await until(() => signedWith(one, rotated.hmacSecret), (HMAC_RELOAD_SECONDS + 5) * 1000, 'exchange 1 signing with the secret made at exchange 2')
    const together = await Promise.all([one, two].map((api) => api.send<{ hmacSecret: string }>('POST', '/admin/brokers/hmac-b/hmac-secret')))
    const current = await live()
    expect(current).toHaveLength(1)
    expect(together.map((r) => r.hmacSecret)).toContain(current[0])
  })
})

describe('two IdP processes on one data directory (a shared volume) and one PostgreSQL, started together', () => {
  it('both come up with the demo account, cookie keys and admin client on disk: the admin secret works at either', async () => {
    const database = await pg.createDatabase()
    const dataDir = join(dir, 'shared-volume')
    const ports = [await freePort(), await freePort()]
    const issuer = `http://127.0.0.1:${ports[0]}`
    const env = (port: number): NodeJS.ProcessEnv => ({
      MQTT_OIDC_DATA_DIR: dataDir,
      MQTT_OIDC_STORE: database,
      MQTT_OIDC_IDP_ISSUER: issuer,
      MQTT_OIDC_IDP_PORT: String(port),
      MQTT_OIDC_IDP_EXCHANGE_URL: 'http://127.0.0.1:9',
      MQTT_OIDC_IDP_DEMO_ACCOUNT: 'true',
      NODE_ENV: 'development',
    })
    const replicas: RunningProcess[] = ports.map((port) => startNode('apps/idp/src/main.ts', [], { env: env(port) }))
    let exited: string | undefined
    for (const r of replicas) void r.done.then((run) => (exited ??= `a replica exited (${String(run.code)}): ${run.stdout}${run.stderr}`))
    try {
      const ready = async (port: number): Promise<boolean> =>
        (await fetch(`http://127.0.0.1:${port}/readyz`, { signal: AbortSignal.timeout(2000) }).catch(() => undefined))?.status === 200
      await until(async () => exited !== undefined || ((await ready(ports[0]!)) && (await ready(ports[1]!))), 60_000, 'both replicas ready')
      expect(exited).toBeUndefined()
      // the secret in the shared admin-client.json, as the CLI reads it, at either replica
      const admin = adminApi(dataDir, 'http://127.0.0.1:9')
      for (const port of ports) await expect(admin.token(`http://127.0.0.1:${port}`)).resolves.toBeTruthy()
    } finally {
      for (const r of replicas) r.kill()
      const killing = setTimeout(() => replicas.forEach((r) => r.kill('SIGKILL')), 10_000)
      await Promise.all(replicas.map((r) => r.done)).finally(() => clearTimeout(killing))
    }
    // the demo account was made once, by whichever replica went first; the other found it
    const printed = (await Promise.all(replicas.map((r) => r.done))).map((run) => run.stdout.split('Demo account (development only').length - 1)
    expect(printed.sort()).toEqual([0, 1])
  }, 90_000)
})
