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
import { openRaw, rawConnect } from '@mqtt-oidc/test-support/raw-mqtt'
import { writeSelfSignedCert } from '@mqtt-oidc/test-support/self-signed-cert'
import { READY_ANSWER } from './support/ready-answer.js'

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
  writeSelfSignedCert(join(dir, 'key.pem'), join(dir, 'cert.pem'))
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
  it('counts connects by outcome, reason and CONNACK, verifications by refusal code, JWKS fetches and age, live sessions and feed lag', async () => {
    const live = await connected(at.mqttUrl, await as('m1'))
    expect(await connackOf(at.mqttUrl, { clientId: 'm2', username: 'm2', password: 'garbage' })).toBe(4)
    const res = await fetch(at.metricsUrl ?? '')
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/)
    const text = await res.text()
    expect(text).toMatch(/^mqtt_oidc_broker_connects_total\{outcome="accepted",reason="",connack="0",broker="ops"\} [1-9]\d*$/m)
    expect(text).toMatch(/^mqtt_oidc_broker_connects_total\{outcome="refused",reason="ERR_TOKEN_MALFORMED",connack="4",broker="ops"\} [1-9]\d*$/m)
    expect(text).toMatch(/^mqtt_oidc_broker_token_verifications_total\{result="valid",code="",broker="ops"\} [1-9]\d*$/m)
    expect(text).toMatch(/^mqtt_oidc_broker_token_verifications_total\{result="refused",code="ERR_TOKEN_MALFORMED",broker="ops"\} [1-9]\d*$/m)
    expect(text).toMatch(/^mqtt_oidc_broker_jwks_fetches_total\{outcome="ok",broker="ops"\} [1-9]\d*$/m)
    expect(text).toMatch(/^mqtt_oidc_broker_jwks_age_seconds\{broker="ops"\} \d+(\.\d+)?(e-?\d+)?$/m)
    expect(text).toMatch(/^mqtt_oidc_broker_sessions\{broker="ops"\} [1-9]\d*$/m)
    expect(text).toMatch(/^mqtt_oidc_broker_revocation_feed_lag_seconds\{broker="ops"\} \d+(\.\d+)?(e-?\d+)?$/m)
    expect(text).toMatch(/^mqtt_oidc_broker_jwks_keys\{broker="ops"\} 1$/m)
    expect(text).toMatch(/^mqtt_oidc_broker_connections_held_off_total\{broker="ops"\} 0$/m)
    expect(text).toMatch(/^process_resident_memory_bytes\{broker="ops"\} \d+$/m)
    expect(text).not.toContain('garbage')
    await live.endAsync()
    expect((await fetch(at.metricsUrl?.replace('/metrics', '/other') ?? '')).status).toBe(404)
  })

  it('closes a CONNECT that breaks MQTT 3.1.1 without a CONNACK, and counts it so', async () => {
    const before = await fetch(at.metricsUrl ?? '').then((r) => r.text())
    const count = (text: string): number => Number(/^mqtt_oidc_broker_connects_total\{outcome="refused",reason="ERR_INVALID_REQUEST",connack="none",broker="ops"\} (\d+)$/m.exec(text)?.[1] ?? 0)
    const raw = await openRaw(at.mqttPort)
    raw.socket.write(rawConnect({ clientId: 'raw-1', password: await kit.sign({ sub: 'raw-1' }) }))
    expect((await raw.closed).length).toBe(0)
    expect(count(await fetch(at.metricsUrl ?? '').then((r) => r.text()))).toBe(count(before) + 1)
  })
})

describe('GET /healthz and /readyz on the metrics port', () => {
  it('answers alive, and ready with what it checked: listening, keys held, the revocation feed heard from', async () => {
    const base = at.metricsUrl?.replace('/metrics', '') ?? ''
    expect(await answer(`${base}/healthz`)).toEqual({ status: 200, body: { status: 'ok' } })
    expect(await answer(`${base}/readyz`)).toEqual({ status: 200, body: READY_ANSWER })
  })

  it('is not ready once the revocation feed is out of reach beyond its limit, and says so', async () => {
    const ex = await startFakeExchange({ broker: 'cut' })
    const k = await createTokenKit({ issuer: ex.url, audience: 'cut' })
    ex.jwks = { keys: [k.publicJwk] }
    const b = createBroker({ brokerId: 'cut', exchangeUrl: ex.url, mqttPort: 0, wsPort: 0, metricsPort: 0, feedMaxStaleMs: 1000, logger: silent })
    try {
      const { metricsUrl } = await b.listen()
      const readyz = (metricsUrl ?? '').replace('/metrics', '/readyz')
      expect((await answer(readyz)).status).toBe(200)
      await ex.close()
      await vi.waitFor(() => expect(Date.now() - (b.follower?.state().lastContactAt ?? 0)).toBeGreaterThan(1000), { timeout: 5000 })
      expect(await answer(readyz)).toEqual({
        status: 503,
        body: { status: 'not ready', checks: expect.objectContaining({ revocation_feed: { ok: false, lag_seconds: expect.any(Number), limit_seconds: 1 } }) },
      })
    } finally {
      await b.close()
    }
  })
})

async function answer(url: string): Promise<{ status: number; body: unknown }> {
  const res = await fetch(url)
  return { status: res.status, body: await res.json() }
}

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
