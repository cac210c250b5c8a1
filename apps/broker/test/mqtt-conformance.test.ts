import type { IClientOptions } from 'mqtt'
import { pino } from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createBroker } from '../src/index.js'
import type { Broker, BrokerAddresses } from '../src/index.js'
import { startFakeExchange } from '@mqtt-oidc/test-support/fake-exchange'
import type { FakeExchange } from '@mqtt-oidc/test-support/fake-exchange'
import { createTokenKit, nowSeconds } from '@mqtt-oidc/test-support/token-kit'
import type { TokenKit } from '@mqtt-oidc/test-support/token-kit'
import { connected, nextMessage, spawnTool, subackCodes } from '@mqtt-oidc/test-support/mqtt'
import { openRaw, rawConnect } from '@mqtt-oidc/test-support/raw-mqtt'

// MQTT 3.1.1 rules a broker must keep whatever its authentication does,
// checked with packets written byte by byte (clients refuse to send the
// forbidden ones) and with mosquitto-clients where they can express it.

const BROKER = 'conformance'
const ALL = { pub: ['#'], sub: ['#'] }
let exchange: FakeExchange
let kit: TokenKit
let broker: Broker
let at: BrokerAddresses

async function as(sub: string, claims: Record<string, unknown> = {}): Promise<IClientOptions> {
  return { clientId: sub, username: sub, password: await kit.sign({ sub, ...claims }) }
}

beforeAll(async () => {
  exchange = await startFakeExchange({ broker: BROKER })
  kit = await createTokenKit({ issuer: exchange.url, audience: BROKER })
  exchange.jwks = { keys: [kit.publicJwk] }
  broker = createBroker({ brokerId: BROKER, exchangeUrl: exchange.url, mqttPort: 0, wsPort: 0, logger: pino({ level: 'silent' }) })
  at = await broker.listen()
})

afterAll(async () => {
  await broker?.close()
  await exchange?.close()
})

describe('CONNECT flags (MQTT 3.1.1 §3.1.2, §3.1.3)', () => {
  it('closes the connection, without a CONNACK, on a password flag without the user name flag [MQTT-3.1.2-22]', async () => {
    const raw = await openRaw(at.mqttPort)
    raw.socket.write(rawConnect({ clientId: 'np1', password: await kit.sign({ sub: 'np1' }) }))
    expect([...(await raw.closed)]).toEqual([])
  })

  it('still accepts the same token with the user name flag set', async () => {
    const raw = await openRaw(at.mqttPort)
    raw.socket.write(rawConnect({ clientId: 'np2', username: 'np2', password: await kit.sign({ sub: 'np2' }) }))
    expect([...(await raw.bytes(4))]).toEqual([0x20, 0x02, 0x00, 0x00])
    raw.socket.destroy()
  })

  it('answers an empty client id with CleanSession=0 with CONNACK 2 and closes [MQTT-3.1.3-8]', async () => {
    const raw = await openRaw(at.mqttPort)
    raw.socket.write(rawConnect({ clientId: '', clean: false, username: 'e1', password: await kit.sign({ sub: 'e1' }) }))
    expect([...(await raw.closed)]).toEqual([0x20, 0x02, 0x00, 0x02])
  })

  it('gives an empty client id with CleanSession=1 the token subject (CONNACK 0)', async () => {
    const raw = await openRaw(at.mqttPort)
    raw.socket.write(rawConnect({ clientId: '', clean: true, username: 'e2', password: await kit.sign({ sub: 'e2' }) }))
    expect([...(await raw.bytes(4))]).toEqual([0x20, 0x02, 0x00, 0x00])
    raw.socket.destroy()
  })
})

describe('the will when the broker ends a session [MQTT-3.1.2-8]', () => {
  const port = (): string => String(at.mqttPort)

  it('publishes the will of a session closed at token expiry when its topic is inside the ACL', async () => {
    const watcher = await connected(at.mqttUrl, await as('will-exp-watcher', { acl: ALL }))
    expect(await subackCodes(watcher, { 'devices/#': { qos: 1 } })).toEqual([1])
    const first = nextMessage(watcher)
    const sub = spawnTool(
      'stdbuf',
      [
        '-oL',
        'mosquitto_sub',
        '-h',
        '127.0.0.1',
        '-p',
        port(),
        '-i',
        'will-exp',
        '-u',
        'will-exp',
        '-P',
        await kit.sign({ sub: 'will-exp', exp: nowSeconds() + 2 }),
        '--will-topic',
        'devices/will-exp/status',
        '--will-payload',
        'expired',
        '--will-qos',
        '1',
        '-t',
        'devices/will-exp/in',
        '-d',
      ],
      15_000,
    )
    await sub.printed('SUBACK')
    expect(await first).toEqual({ topic: 'devices/will-exp/status', payload: 'expired', retain: false })
    expect(await sub.exited).toMatchObject({ code: 4, stderr: 'Connection error: Connection Refused: bad user name or password.\n' })
    await watcher.endAsync()
  })

  it('never publishes the will of a session closed because its jti was revoked', async () => {
    const watcher = await connected(at.mqttUrl, await as('will-rev-watcher', { acl: ALL }))
    expect(await subackCodes(watcher, { 'devices/#': { qos: 1 } })).toEqual([1])
    const first = nextMessage(watcher)
    const sub = spawnTool(
      'stdbuf',
      [
        '-oL',
        'mosquitto_sub',
        '-h',
        '127.0.0.1',
        '-p',
        port(),
        '-i',
        'will-rev',
        '-u',
        'will-rev',
        '-P',
        await kit.sign({ sub: 'will-rev', jti: 'jti-will-rev' }),
        '--will-topic',
        'devices/will-rev/status',
        '--will-payload',
        'revoked',
        '--will-qos',
        '1',
        '-t',
        'devices/will-rev/in',
        '-d',
      ],
      15_000,
    )
    await sub.printed('SUBACK')
    exchange.revoke('jti-will-rev')
    // mosquitto_sub reconnects with the revoked token, is refused and gives up
    expect(await sub.exited).toMatchObject({ code: 4, stderr: 'Connection error: Connection Refused: bad user name or password.\n' })
    // a marker published after the session ended must be the first thing the watcher sees
    const marker = await connected(at.mqttUrl, await as('will-rev-marker', { acl: ALL }))
    await marker.publishAsync('devices/will-rev/status', 'marker', { qos: 1 })
    expect(await first).toEqual({ topic: 'devices/will-rev/status', payload: 'marker', retain: false })
    await Promise.all([watcher.endAsync(), marker.endAsync()])
  })
})
