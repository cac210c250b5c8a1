import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { pino } from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { WebSocket } from 'ws'
import { createBroker } from '../src/index.js'
import type { Broker, BrokerAddresses } from '../src/index.js'
import { startFakeExchange } from '@mqtt-oidc/test-support/fake-exchange'
import type { FakeExchange } from '@mqtt-oidc/test-support/fake-exchange'
import { createTokenKit } from '@mqtt-oidc/test-support/token-kit'
import type { TokenKit } from '@mqtt-oidc/test-support/token-kit'
import { until } from '@mqtt-oidc/test-support/until'
import { openRaw, rawConnect, remainingLength } from '@mqtt-oidc/test-support/raw-mqtt'
import type { RawSession } from '@mqtt-oidc/test-support/raw-mqtt'

// Before authentication a connection must cost little: a CONNECT larger than
// a token needs, one that never completes, or an address that keeps failing
// is cut early. Each test connects from its own loopback address, because
// failures count per address.

const BROKER = 'limits'
const MAX_CONNECT = 4096
const MAX_PACKET = 8192
const BUDGET = 3
/** 256 MB - 1: the largest remaining length MQTT can express (§2.2.3). */
const HUGE = 268_435_455
const CONNACK_OK = [0x20, 0x02, 0x00, 0x00]
const CONNACK_BAD_CREDENTIALS = [0x20, 0x02, 0x00, 0x04]
let exchange: FakeExchange
let kit: TokenKit
let broker: Broker
let at: BrokerAddresses

setFlagsFromString('--expose-gc')
const gc = runInNewContext('gc') as () => void
const bufferBytes = (): number => {
  gc()
  return process.memoryUsage().arrayBuffers
}

/** A CONNECT (client id and user name `sub`) whose remaining length is exactly `size`, padded in the password. */
function connectOfSize(sub: string, size: number): Buffer {
  const bare = rawConnect({ clientId: sub, username: sub, password: '' })
  const header = 1 + remainingLength(bare.length - 2).length
  return rawConnect({ clientId: sub, username: sub, password: 'x'.repeat(size - (bare.length - header)) })
}

async function valid(sub: string, localAddress: string): Promise<RawSession> {
  const raw = await openRaw(at.mqttPort, { localAddress })
  raw.socket.write(rawConnect({ clientId: sub, username: sub, password: await kit.sign({ sub }) }))
  return raw
}

beforeAll(async () => {
  exchange = await startFakeExchange({ broker: BROKER })
  kit = await createTokenKit({ issuer: exchange.url, audience: BROKER })
  exchange.jwks = { keys: [kit.publicJwk] }
  broker = createBroker({
    brokerId: BROKER,
    exchangeUrl: exchange.url,
    mqttPort: 0,
    wsPort: 0,
    logger: pino({ level: 'silent' }),
    maxConnectBytes: MAX_CONNECT,
    maxPacketBytes: MAX_PACKET,
    connectTimeoutMs: 300,
    connectFailures: { maxFailures: BUDGET, windowMs: 60_000, holdMs: 60_000 },
  })
  at = await broker.listen()
})

afterAll(async () => {
  await broker?.close()
  await exchange?.close()
})

describe('packet size before authentication', () => {
  it('closes a CONNECT declaring 256 MB (the most MQTT allows) right after its fixed header, without a CONNACK', async () => {
    const raw = await openRaw(at.mqttPort, { localAddress: '127.0.0.11' })
    raw.socket.write(Buffer.concat([Buffer.from([0x10]), remainingLength(HUGE), Buffer.alloc(100)]))
    expect([...(await raw.closed)]).toEqual([])
  })

  it('reads a CONNECT of exactly the limit and closes one a byte over it', async () => {
    expect(connectOfSize('s1', MAX_CONNECT).length).toBe(1 + remainingLength(MAX_CONNECT).length + MAX_CONNECT)
    const atLimit = await openRaw(at.mqttPort, { localAddress: '127.0.0.12' })
    atLimit.socket.write(connectOfSize('s1', MAX_CONNECT))
    // read and judged: a 4 KB garbage password is a bad credential
    expect([...(await atLimit.closed)]).toEqual(CONNACK_BAD_CREDENTIALS)
    const over = await openRaw(at.mqttPort, { localAddress: '127.0.0.12' })
    over.socket.write(connectOfSize('s1', MAX_CONNECT + 1))
    expect([...(await over.closed)]).toEqual([])
  })

  it('closes a WebSocket whose first MQTT packet declares 256 MB (the most MQTT allows)', async () => {
    const ws = new WebSocket(at.wsUrl, 'mqtt')
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject))
    const received: Buffer[] = []
    ws.on('message', (data: Buffer) => received.push(data))
    const closed = new Promise((resolve) => ws.once('close', resolve))
    ws.send(Buffer.concat([Buffer.from([0x10]), remainingLength(HUGE), Buffer.alloc(100)]))
    await closed
    expect(received).toEqual([])
  })
})

describe('packet size after authentication', () => {
  it('takes a PUBLISH up to the configured maximum and closes the connection on a larger one', async () => {
    const raw = await valid('p1', '127.0.0.13')
    expect([...(await raw.bytes(4))]).toEqual(CONNACK_OK)
    const topic = Buffer.from('\u0000\u000ddevices/p1/up')
    const publish = (size: number, id: number): Buffer =>
      Buffer.concat([Buffer.from([0x32]), remainingLength(size), topic, Buffer.from([0, id]), Buffer.alloc(size - topic.length - 2)])
    raw.socket.write(publish(MAX_PACKET, 1))
    expect([...(await raw.bytes(8))].slice(4)).toEqual([0x40, 0x02, 0x00, 0x01]) // PUBACK
    raw.socket.write(publish(MAX_PACKET + 1, 2))
    expect([...(await raw.closed)].slice(8)).toEqual([])
  })
})

describe('CONNECT timeout', () => {
  it('closes a connection that sends nothing', async () => {
    const raw = await openRaw(at.mqttPort, { localAddress: '127.0.0.14' })
    expect([...(await raw.closed)]).toEqual([])
  })

  it('closes a connection that never completes its CONNECT', async () => {
    const raw = await openRaw(at.mqttPort, { localAddress: '127.0.0.14' })
    raw.socket.write(rawConnect({ clientId: 'slow', username: 'slow', password: 'x'.repeat(200) }).subarray(0, 40))
    expect([...(await raw.closed)]).toEqual([])
  })
})

describe('per-address budget of failed CONNECTs', () => {
  it('holds off an address that spent its budget, and lets another address connect', async () => {
    for (let i = 0; i <= BUDGET; i++) {
      const raw = await openRaw(at.mqttPort, { localAddress: '127.0.0.15' })
      raw.socket.write(rawConnect({ clientId: 'guess', username: 'guess', password: `guess-${i}` }))
      expect([...(await raw.closed)]).toEqual(CONNACK_BAD_CREDENTIALS)
    }
    // held off: even a good token from that address is cut before anything is read
    expect([...(await (await valid('h1', '127.0.0.15')).closed)]).toEqual([])
    const other = await valid('h2', '127.0.0.16')
    expect([...(await other.bytes(4))]).toEqual(CONNACK_OK)
    other.socket.destroy()
  })
})

describe('memory held for connections that never authenticate', () => {
  it('does not keep the bytes of oversized CONNECTs, and is back at its baseline once they are gone', async () => {
    const sockets = 8
    const perSocket = 4 * 1024 * 1024
    const chunk = Buffer.alloc(64 * 1024, 0x61)
    const baseline = bufferBytes()
    const raws = await Promise.all(Array.from({ length: sockets }, () => openRaw(at.mqttPort, { localAddress: '127.0.0.17' })))
    // each declares 256 MB (the most MQTT allows), then sends 4 MB of it (unless the broker closes it first)
    await Promise.all(
      raws.map(async (raw) => {
        raw.socket.write(Buffer.concat([Buffer.from([0x10]), remainingLength(HUGE)]))
        for (let sent = 0; sent < perSocket && !raw.socket.destroyed; sent += chunk.length) {
          const ok = await new Promise<boolean>((resolve) => raw.socket.write(chunk, (err) => resolve(!err)))
          if (!ok) break
        }
      }),
    )
    // whatever the broker did with them, it may not be holding (most of) one socket's worth
    expect(bufferBytes() - baseline).toBeLessThan(perSocket / 2)
    expect((await Promise.all(raws.map((raw) => raw.closed))).map((got) => got.length)).toEqual(new Array(sockets).fill(0))
    await until(async () => bufferBytes() - baseline < 1024 * 1024)
  })
})
