import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pino } from 'pino'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { createBroker } from '../src/index.js'
import type { Broker, BrokerAddresses } from '../src/index.js'
import { startFakeExchange } from '@mqtt-oidc/test-support/fake-exchange'
import type { FakeExchange } from '@mqtt-oidc/test-support/fake-exchange'
import { createTokenKit } from '@mqtt-oidc/test-support/token-kit'
import type { TokenKit } from '@mqtt-oidc/test-support/token-kit'
import { connackOf, connected } from '@mqtt-oidc/test-support/mqtt'

const BROKER = 'ops'
let exchange: FakeExchange
let kit: TokenKit
let broker: Broker
let at: BrokerAddresses
let dir: string
let cert: Buffer

const as = async (sub: string, k: TokenKit = kit) => ({ clientId: sub, username: sub, password: await k.sign({ sub }) })
const silent = pino({ level: 'silent' })

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'broker-tls-'))
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '1', '-subj', '/CN=localhost',
    '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'),
  ], { stdio: 'ignore' })
  cert = readFileSync(join(dir, 'cert.pem'))
  exchange = await startFakeExchange({ broker: BROKER })
  kit = await createTokenKit({ issuer: exchange.url, audience: BROKER })
  exchange.jwks = { keys: [kit.publicJwk] }
  broker = createBroker({
    brokerId: BROKER, exchangeUrl: exchange.url, mqttPort: 0, wsPort: 0, metricsPort: 0, logger: silent,
    tls: { certPath: join(dir, 'cert.pem'), keyPath: join(dir, 'key.pem'), port: 0 },
  })
  at = await broker.listen()
})
afterAll(async () => {
  await broker?.close()
  await exchange?.close()
  rmSync(dir, { recursive: true, force: true })
})

describe('TLS listener (cert/key paths)', () => {
  it('accepts a token over mqtts with the self-signed certificate trusted, and refuses a forged one with CONNACK 4', async () => {
    expect(at.mqttsUrl).toBe(`mqtts://127.0.0.1:${at.mqttsPort}`)
    const client = await connected(at.mqttsUrl ?? '', { ...(await as('t1')), ca: cert })
    expect(client.connected).toBe(true)
    await client.endAsync()
    const forger = await createTokenKit({ issuer: exchange.url, audience: BROKER, kid: kit.kid })
    expect(await connackOf(at.mqttsUrl ?? '', { ...(await as('t2', forger)), ca: cert })).toBe(4)
  })

  it('refuses a client that does not trust the certificate (no plaintext fallback)', async () => {
    await expect(connected(at.mqttsUrl ?? '', { ...(await as('t3')), rejectUnauthorized: true })).rejects.toThrow()
  })
})

describe('GET /metrics (Prometheus text format)', () => {
  it('counts connects by outcome and reason, JWKS fetches, live sessions and feed lag', async () => {
    const live = await connected(at.mqttUrl, await as('m1'))
    expect(await connackOf(at.mqttUrl, { clientId: 'm2', username: 'm2', password: 'garbage' })).toBe(4)
    const res = await fetch(at.metricsUrl ?? '')
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/)
    const text = await res.text()
    expect(text).toMatch(/^mqtt_oidc_broker_connects_total\{outcome="accepted",reason="",broker="ops"\} [1-9]\d*$/m)
    expect(text).toMatch(/^mqtt_oidc_broker_connects_total\{outcome="refused",reason="ERR_TOKEN_MALFORMED",broker="ops"\} [1-9]\d*$/m)
    expect(text).toMatch(/^mqtt_oidc_broker_jwks_fetches_total\{outcome="ok",broker="ops"\} [1-9]\d*$/m)
    expect(text).toMatch(/^mqtt_oidc_broker_sessions\{broker="ops"\} [1-9]\d*$/m)
    expect(text).toMatch(/^mqtt_oidc_broker_revocation_feed_lag_seconds\{broker="ops"\} \d+(\.\d+)?(e-?\d+)?$/m)
    expect(text).toMatch(/^mqtt_oidc_broker_jwks_keys\{broker="ops"\} 1$/m)
    expect(text).not.toContain('garbage')
    await live.endAsync()
    expect((await fetch(at.metricsUrl?.replace('/metrics', '/other') ?? '')).status).toBe(404)
  })
})

describe('revocation feed unreachable', () => {
  it.each([
    ['fail-closed', 3],
    ['fail-open', 0],
  ] as const)('%s: once the feed is out of reach beyond the limit, a good token gets CONNACK %i', async (policy, code) => {
    const ex = await startFakeExchange({ broker: 'cut' })
    const k = await createTokenKit({ issuer: ex.url, audience: 'cut' })
    ex.jwks = { keys: [k.publicJwk] }
    const b = createBroker({ brokerId: 'cut', exchangeUrl: ex.url, mqttPort: 0, wsPort: 0, feedMaxStaleMs: 1, feedPolicy: policy, logger: silent })
    try {
      const { mqttUrl } = await b.listen()
      await ex.close() // nothing can refresh lastContactAt from here on
      await vi.waitFor(() => expect(Date.now() - (b.follower?.state().lastContactAt ?? 0)).toBeGreaterThan(1))
      expect(await connackOf(mqttUrl, { clientId: 'x', username: 'x', password: await k.sign({ sub: 'x' }) })).toBe(code)
    } finally {
      await b.close()
    }
  })
})
