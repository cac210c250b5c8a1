import { pino } from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createBroker } from '../src/index.js'
import type { Broker, BrokerAddresses } from '../src/index.js'
import { startFakeExchange } from '@mqtt-oidc/test-support/fake-exchange'
import type { FakeExchange } from '@mqtt-oidc/test-support/fake-exchange'
import { createTokenKit } from '@mqtt-oidc/test-support/token-kit'
import type { TokenKit } from '@mqtt-oidc/test-support/token-kit'
import { connackOf, connected, nextMessage } from '@mqtt-oidc/test-support/mqtt'

const BROKER = 'faults'
const ALL = { pub: ['#'], sub: ['#'] }

let exchange: FakeExchange
let kit: TokenKit
let broker: Broker
let at: BrokerAddresses

const as = async (k: TokenKit, sub: string) => ({ clientId: sub, username: sub, password: await k.sign({ sub, acl: ALL }) })

beforeAll(async () => {
  exchange = await startFakeExchange({ broker: BROKER })
  kit = await createTokenKit({ issuer: exchange.url, audience: BROKER })
  exchange.jwks = { keys: [kit.publicJwk] }
  // a zero cooldown: every unknown kid may refetch, so the tests below decide what the JWKS says
  broker = createBroker({ brokerId: BROKER, exchangeUrl: exchange.url, mqttPort: 0, wsPort: 0, jwksCooldownMs: 0, logger: pino({ level: 'silent' }) })
  at = await broker.listen()
})
afterAll(async () => {
  await broker?.close()
  await exchange?.close()
})

describe('broker JWKS faults', () => {
  it('key rotated while clients are connected: no one is dropped, the new key connects, the removed key does not', async () => {
    const clients = await Promise.all(['r1', 'r2', 'r3'].map(async (id) => connected(at.mqttUrl, await as(kit, id))))
    let dropped = 0
    for (const c of clients) c.on('close', () => dropped++)
    const rotated = await createTokenKit({ issuer: exchange.url, audience: BROKER })
    exchange.jwks = { keys: [rotated.publicJwk] }
    expect(await broker.keys?.refresh()).toBe(true)

    expect(await connackOf(at.mqttUrl, await as(rotated, 'r4'))).toBe(0)
    expect(await connackOf(at.mqttUrl, await as(kit, 'r5'))).toBe(4)
    // the old sessions still work end to end
    const [first, second] = clients
    if (!first || !second) throw new Error('unreachable')
    await first.subscribeAsync('rot/#', { qos: 1 })
    const got = nextMessage(first)
    await second.publishAsync('rot/x', 'still here', { qos: 1 })
    expect((await got).payload).toBe('still here')
    expect(dropped).toBe(0)
    await Promise.all(clients.map((c) => c.endAsync()))
    exchange.jwks = { keys: [kit.publicJwk] }
    await broker.keys?.refresh()
  })

  it('JWKS endpoint down: held keys keep connecting; a new kid is refused with CONNACK 3 (server unavailable)', async () => {
    exchange.jwksFailure = 503
    try {
      expect(await broker.keys?.refresh()).toBe(false)
      expect(await connackOf(at.mqttUrl, await as(kit, 'd1'))).toBe(0)
      const unknown = await createTokenKit({ issuer: exchange.url, audience: BROKER })
      expect(await connackOf(at.mqttUrl, await as(unknown, 'd2'))).toBe(3)
    } finally {
      exchange.jwksFailure = undefined
    }
  })

  it('JWKS endpoint returns garbage: held keys keep connecting; a new kid is refused', async () => {
    exchange.jwksRaw = '<html>502 Bad Gateway</html>'
    try {
      expect(await broker.keys?.refresh()).toBe(false)
      expect(await connackOf(at.mqttUrl, await as(kit, 'g1'))).toBe(0)
      const unknown = await createTokenKit({ issuer: exchange.url, audience: BROKER })
      expect(await connackOf(at.mqttUrl, await as(unknown, 'g2'))).toBe(3)
    } finally {
      exchange.jwksRaw = undefined
    }
  })
})
