import { createServer } from 'node:net'
import type { Server } from 'node:net'
import type { AddressInfo } from 'node:net'
import { Aedes } from 'aedes'
import type { MqttClient } from 'mqtt'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { connectWithToken } from '../src/connect-with-token.js'
import type { ConnectToken } from '../src/connect-with-token.js'
import { ConnectRefused } from '../src/errors.js'

interface Connect { clientId: string; username: string | undefined; password: string | undefined }

let broker: Aedes
let server: Server
let url: string
let connects: Connect[] = []
let refuseWith: 4 | 5 | undefined
const clients: MqttClient[] = []

beforeAll(async () => {
  broker = await Aedes.createBroker({
    authenticate: (client, username, password, done) => {
      connects.push({ clientId: client.id, username: username ?? undefined, password: password?.toString() })
      if (refuseWith === undefined) return done(null, true)
      const err = Object.assign(new Error('refused'), { returnCode: refuseWith })
      return done(err as never, false)
    },
  })
  server = createServer((socket) => broker.handle(socket))
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  url = `mqtt://127.0.0.1:${(server.address() as AddressInfo).port}`
})
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.endAsync(true)))
  connects = []
  refuseWith = undefined
})
afterAll(async () => {
  await new Promise<void>((resolve) => { broker.close(() => resolve()) })
  await new Promise<void>((resolve) => server.close(() => resolve()))
})

/** Closes a client's connection from the broker side (what the broker does when a token expires). */
const dropClient = (id: string): void => {
  (broker as unknown as { clients: Record<string, { close(): void } | undefined> }).clients[id]?.close()
}

const token = (n: number, ttl?: number): ConnectToken => ({
  token: `token-${n}`, clientId: 'gateway-1', username: 'alice',
  ...(ttl === undefined ? {} : { expiresAt: Date.now() / 1000 + ttl }),
})

describe('connectWithToken (MQTT CONNECT with a broker token)', () => {
  it('connects with client id = sub and password = token, and an empty username unless asked', async () => {
    clients.push(await connectWithToken({ brokerUrl: url, getToken: async () => token(1) }))
    expect(connects).toEqual([{ clientId: 'gateway-1', username: '', password: 'token-1' }])
    clients.push(await connectWithToken({ brokerUrl: url, getToken: async () => ({ ...token(2), clientId: 'gateway-2' }), sendUsername: true }))
    expect(connects[1]).toEqual({ clientId: 'gateway-2', username: 'alice', password: 'token-2' })
  })

  it('rejects with ConnectRefused carrying the CONNACK code, and does not reconnect', async () => {
    refuseWith = 4
    const err = await connectWithToken({ brokerUrl: url, getToken: async () => token(1), mqtt: { reconnectPeriod: 20 } }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(ConnectRefused)
    expect(err).toMatchObject({ code: 'ERR_CONNECT_REFUSED', returnCode: 4, message: 'broker refused the connection (CONNACK 4: bad user name or password)' })
    // A negative: give a reconnect loop (20 ms period) ten chances to show up.
    await new Promise((resolve) => setTimeout(resolve, 200))
    expect(connects).toHaveLength(1)
  })

  it('renews the token ahead of expiry so the next automatic reconnect presents the new one', async () => {
    let n = 0
    let renewed!: () => void
    const renewal = new Promise<void>((resolve) => { renewed = resolve })
    const client = await connectWithToken({
      brokerUrl: url,
      renewBeforeSeconds: 0.8,
      mqtt: { reconnectPeriod: 20 },
      getToken: async () => {
        n += 1
        if (n === 2) setImmediate(renewed)
        return token(n, 1)
      },
    })
    clients.push(client)
    await renewal
    expect(client.options.password).toBe('token-2')
    const reconnected = new Promise((resolve) => client.once('connect', resolve))
    dropClient('gateway-1') // the broker drops us, as it does when a token expires
    await reconnected
    expect(connects.map((c) => c.password)).toEqual(['token-1', 'token-2'])
  })

  it('ends the client and reports ConnectRefused when a later reconnect is refused', async () => {
    const refusals: ConnectRefused[] = []
    const client = await connectWithToken({
      brokerUrl: url,
      getToken: async () => token(1),
      mqtt: { reconnectPeriod: 20 },
      onRefused: (err) => refusals.push(err),
    })
    clients.push(client)
    client.on('error', () => undefined)
    const ended = new Promise<void>((resolve) => client.once('end', () => resolve()))
    refuseWith = 5
    dropClient('gateway-1')
    await ended
    expect(refusals.map((e) => [e.code, e.returnCode])).toEqual([['ERR_CONNECT_REFUSED', 5]])
    expect(connects).toHaveLength(2)
  })
})
