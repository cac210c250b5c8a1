import { createServer } from 'node:net'
import type { Server, Socket } from 'node:net'
import type { AddressInfo } from 'node:net'
import { Aedes } from 'aedes'
import type { IClientOptions, MqttClient } from 'mqtt'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { connectWithToken } from '../src/connect-with-token.js'
import type { ConnectToken } from '../src/connect-with-token.js'
import { BrokerTokenExpired, BrokerTokenRevoked, ConnectRefused, LoginRequired, NotAuthorized, ProtocolVersionRefused } from '../src/errors.js'
import type { BrokerRefusal } from '../src/errors.js'
import { startMosquitto } from '@mqtt-oidc/test-support/start-mosquitto'
import type { TestMosquitto } from '@mqtt-oidc/test-support/start-mosquitto'

interface Connect { clientId: string; username: string | undefined; password: string | undefined }

let broker: Aedes
let server: Server
let url: string
let connects: Connect[] = []
let refuseWith: 3 | 4 | 5 | undefined
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

/** Resolves once `check()` holds (re-checked every 10 ms). */
const until = async (check: () => boolean): Promise<void> => {
  while (!check()) await new Promise((resolve) => setTimeout(resolve, 10))
}

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

  it('renews the token ahead of expiry and reconnects with it at once, before the broker would cut the session', async () => {
    let n = 0
    let onRenewed!: (t: ConnectToken) => void
    const renewed = new Promise<ConnectToken>((resolve) => { onRenewed = resolve })
    const client = await connectWithToken({
      brokerUrl: url,
      renewBeforeSeconds: 0.8,
      mqtt: { reconnectPeriod: 60_000 }, // only the proactive reconnect can reconnect within this test
      getToken: async () => token(++n, 1),
      onRenewed: (t) => onRenewed(t),
    })
    clients.push(client)
    let offline = 0
    client.on('offline', () => { offline += 1 })
    const reconnected = new Promise((resolve) => client.once('close', () => client.once('connect', resolve)))
    expect((await renewed).token).toBe('token-2')
    await reconnected
    expect(connects.map((c) => c.password)).toEqual(['token-1', 'token-2'])
    expect(offline).toBe(0) // a planned switch is not reported as an outage
    expect(client.options.password).toBe('token-2')
  })

  it('with reconnectOnRenew false, only the next automatic reconnect presents the renewed token', async () => {
    let n = 0
    let renewed!: () => void
    const renewal = new Promise<void>((resolve) => { renewed = resolve })
    const client = await connectWithToken({
      brokerUrl: url,
      renewBeforeSeconds: 0.8,
      reconnectOnRenew: false,
      mqtt: { reconnectPeriod: 20 },
      getToken: async () => token(++n, 1),
      onRenewed: () => renewed(),
    })
    clients.push(client)
    await renewal
    expect(client.options.password).toBe('token-2')
    const reconnected = new Promise((resolve) => client.once('connect', resolve))
    dropClient('gateway-1') // the broker drops us, as it does when a token expires
    await reconnected
    expect(connects.map((c) => c.password)).toEqual(['token-1', 'token-2'])
  })

  it('loses no QoS 1 message published before, during and after a proactive reconnect', async () => {
    const received = new Set<string>()
    const listener = (packet: { topic: string; payload: Buffer | string }, aedesClient: unknown): void => {
      if (aedesClient && packet.topic === 'devices/gateway-1/n') received.add(packet.payload.toString())
    }
    broker.on('publish', listener)
    let n = 0
    let renewed!: () => void
    const renewal = new Promise<void>((resolve) => { renewed = resolve })
    const client = await connectWithToken({
      brokerUrl: url, renewBeforeSeconds: 0.5, mqtt: { reconnectPeriod: 60_000 },
      getToken: async () => token(++n, 1), onRenewed: () => renewed(),
    })
    clients.push(client)
    const acks: Promise<unknown>[] = []
    const publish = (i: number): void => { acks.push(client.publishAsync('devices/gateway-1/n', String(i), { qos: 1 })) }
    let i = 0
    for (; i < 20; i++) publish(i)
    await renewal // the reconnect has just started: these go out while it is under way
    for (; i < 40; i++) publish(i)
    await new Promise((resolve) => client.once('connect', resolve))
    for (; i < 60; i++) publish(i)
    await Promise.all(acks)
    broker.off('publish', listener)
    expect([...received].map(Number).sort((a, b) => a - b)).toEqual(Array.from({ length: 60 }, (_, k) => k))
    expect(connects.map((c) => c.password)).toEqual(['token-1', 'token-2'])
  })

  it('ends the client and reports NotAuthorized when a later reconnect is refused with CONNACK 5', async () => {
    const refusals: BrokerRefusal[] = []
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
    expect(refusals.map((e) => [e.constructor, e.code, e.returnCode])).toEqual([[NotAuthorized, 'ERR_NOT_AUTHORIZED', 5]])
    expect(connects).toHaveLength(2)
  })

  it('reports BrokerTokenRevoked when the refused token is unexpired and the revocation check lists its jti', async () => {
    const refusals: BrokerRefusal[] = []
    const ended = new Promise<void>((resolve) => {
      void connectWithToken({
        brokerUrl: url, mqtt: { reconnectPeriod: 20 },
        getToken: async () => ({ ...token(1, 600), jti: 'jti-1' }),
        isRevoked: async (t) => t.jti === 'jti-1',
        onRefused: (err) => { refusals.push(err); resolve() },
      }).then((c) => {
        clients.push(c)
        refuseWith = 4
        dropClient('gateway-1')
      })
    })
    await ended
    expect(refusals).toHaveLength(1)
    expect(refusals[0]).toBeInstanceOf(BrokerTokenRevoked)
    expect(refusals[0]).toMatchObject({ code: 'ERR_BROKER_TOKEN_REVOKED', returnCode: 4, jti: 'jti-1' })
  })

  it('reports BrokerTokenExpired, with the renewal error as cause, when the token could not be renewed', async () => {
    let n = 0
    const refusals: BrokerRefusal[] = []
    let renewFailed!: () => void
    const failed = new Promise<void>((resolve) => { renewFailed = resolve })
    const refused = new Promise<void>((resolve) => {
      void connectWithToken({
        brokerUrl: url, mqtt: { reconnectPeriod: 20 },
        getToken: async () => {
          n += 1
          if (n > 1) throw new LoginRequired('the identity provider refused the refresh token (invalid_grant)')
          return token(1, -1) // already past its exp: renewal starts at once (and fails)
        },
        onRenewError: () => renewFailed(),
        onRefused: (err) => { refusals.push(err); resolve() },
      }).then(async (c) => {
        clients.push(c)
        await failed
        refuseWith = 4
        dropClient('gateway-1')
      })
    })
    await refused
    expect(refusals[0]).toBeInstanceOf(BrokerTokenExpired)
    expect(refusals[0]).toMatchObject({ code: 'ERR_BROKER_TOKEN_EXPIRED', returnCode: 4 })
    expect((refusals[0] as Error).cause).toBeInstanceOf(LoginRequired)
  })

  it('keeps reconnecting after CONNACK 3 (server unavailable): it is not a final refusal', async () => {
    const refusals: BrokerRefusal[] = []
    const client = await connectWithToken({ brokerUrl: url, getToken: async () => token(1), mqtt: { reconnectPeriod: 20 }, onRefused: (err) => refusals.push(err) })
    clients.push(client)
    const refusedOnce = new Promise<void>((resolve) => client.once('error', () => { refuseWith = undefined; resolve() }))
    const reconnected = new Promise<void>((resolve) => client.once('close', () => client.once('connect', () => resolve())))
    refuseWith = 3
    dropClient('gateway-1')
    await refusedOnce
    await reconnected
    expect(refusals).toEqual([])
    expect(connects).toHaveLength(3)
  })
})

describe('connectWithToken: reconnecting after the broker went away', () => {
  /** An accept-all aedes on `port` (0 = any), for a broker that can go away and come back. */
  const startOwnBroker = async (port: number): Promise<{ port: number; close(): Promise<void> }> => {
    const own = await Aedes.createBroker()
    const srv = createServer((socket) => own.handle(socket))
    await new Promise<void>((resolve) => srv.listen(port, '127.0.0.1', resolve))
    return {
      port: (srv.address() as AddressInfo).port,
      close: async () => {
        await new Promise<void>((resolve) => { own.close(() => resolve()) })
        await new Promise<void>((resolve) => srv.close(() => resolve()))
      },
    }
  }

  it('backs off exponentially with jitter: each delay within its doubling bounds, two clients never in lockstep, and from the start again once connected', async () => {
    const own = await startOwnBroker(0)
    const fleet = await Promise.all([1, 2].map((n) => connectWithToken({
      brokerUrl: `mqtt://127.0.0.1:${own.port}`,
      getToken: async () => ({ ...token(n), clientId: `gateway-${n}` }),
      mqtt: { reconnectPeriod: 40 },
      maxReconnectPeriod: 320,
    })))
    clients.push(...fleet)
    // the delay mqtt.js waits before each attempt: what the client set when its connection closed
    const delays = fleet.map((client) => {
      const seen: number[] = []
      client.on('close', () => seen.push(client.options.reconnectPeriod ?? Number.NaN))
      return seen
    })
    await own.close()
    await until(() => delays.every((d) => d.length >= 7))
    for (const d of delays) {
      d.slice(0, 7).forEach((delay, i) => {
        const ceiling = Math.min(320, 40 * 2 ** i)
        expect(delay).toBeGreaterThanOrEqual(ceiling / 2)
        expect(delay).toBeLessThanOrEqual(ceiling)
      })
    }
    expect(delays[0]!.slice(0, 7)).not.toEqual(delays[1]!.slice(0, 7))

    const back = await startOwnBroker(own.port)
    await until(() => fleet.every((c) => c.connected))
    const after = fleet.map((c) => new Promise<number>((resolve) => c.once('close', () => resolve(c.options.reconnectPeriod ?? Number.NaN))))
    await back.close()
    for (const delay of await Promise.all(after)) {
      expect(delay).toBeGreaterThanOrEqual(20)
      expect(delay).toBeLessThanOrEqual(40)
    }
  })

  it('paces CONNACK 3 retries with the same back-off', async () => {
    const client = await connectWithToken({ brokerUrl: url, getToken: async () => token(1), mqtt: { reconnectPeriod: 40 }, maxReconnectPeriod: 320 })
    clients.push(client)
    client.on('error', () => undefined)
    const delays: number[] = []
    client.on('close', () => delays.push(client.options.reconnectPeriod ?? Number.NaN))
    refuseWith = 3
    dropClient('gateway-1')
    await until(() => delays.length >= 4)
    refuseWith = undefined
    delays.slice(0, 4).forEach((delay, i) => {
      const ceiling = 40 * 2 ** i
      expect(delay).toBeGreaterThanOrEqual(ceiling / 2)
      expect(delay).toBeLessThanOrEqual(ceiling)
    })
    await until(() => client.connected)
  })
})

describe('connectWithToken with protocolVersion 5', () => {
  // Debian's mosquitto 2.0.11, a real MQTT 5 broker, with one listener per refusal it can give.
  let mosquitto: TestMosquitto
  beforeAll(async () => {
    mosquitto = await startMosquitto({
      users: { alice: 'token-7', 'user-1': 'token-1', 'user-2': 'token-2' },
      tls: true,
      listeners: (files) => ({
        open: ['allow_anonymous true'],
        // a username/password not in the file: 0x87 (mosquitto 2.0.11 answers a wrong password "not authorized", never 0x86)
        password: ['allow_anonymous false', `password_file ${files.passwordFile}`],
        // the username must come from a client certificate, and none is asked for: 0x86 (bad user name or password) to every CONNECT
        certificateIdentity: ['allow_anonymous true', `certfile ${files.certFile}`, `keyfile ${files.keyFile}`, 'require_certificate false', 'use_identity_as_username true'],
      }),
    })
  })
  afterAll(async () => { await mosquitto.stop() })

  const mqttUrl = (listener: string): string => `mqtt://127.0.0.1:${mosquitto.port(listener)}`
  /**
   * How the broker logged the CONNECT it accepted on `client`'s connection (found by the client's
   * source port): "as <client id> (p<protocol level>, c<clean start>, k<keepalive>[, u'<username>'])."
   * mosquitto writes it before its CONNACK, so it is there once our pipe from it is read.
   */
  const acceptedConnect = async (client: MqttClient): Promise<string> => {
    const from = `New client connected from 127.0.0.1:${(client.stream as Socket).localPort} `
    const line = (): string | undefined => mosquitto.output().split('\n').find((l) => l.startsWith(from))
    await until(() => line() !== undefined)
    return line()!.slice(from.length)
  }

  it('against aedes (MQTT 3.1.1 only) rejects with ProtocolVersionRefused, before any authentication', async () => {
    let calls = 0
    const err = await connectWithToken({ brokerUrl: url, getToken: async () => { calls += 1; return token(1) }, mqtt: { protocolVersion: 5 } }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(ProtocolVersionRefused)
    expect(err).toMatchObject({
      code: 'ERR_PROTOCOL_VERSION_REFUSED', returnCode: 1, protocolVersion: 5,
      message: 'the broker refused the MQTT protocol version (CONNACK 1: unacceptable protocol version): it may not speak MQTT 5 (aedes speaks 3.1.1 only); connect with MQTT 3.1.1 (CLI: -V 3.1.1)',
    })
    expect(connects).toEqual([])
    expect(calls).toBe(1)
  })

  it('connects to an MQTT 5 broker with a level-5 CONNECT carrying client id = sub, and password = token', async () => {
    const client = await connectWithToken({ brokerUrl: mqttUrl('open'), getToken: async () => ({ ...token(7), clientId: 'gateway-5' }), mqtt: { protocolVersion: 5, reconnectPeriod: 0 } })
    clients.push(client)
    expect(client.connected).toBe(true)
    // no u'...': mosquitto takes the empty username for none, as the client means it
    expect(await acceptedConnect(client)).toBe('as gateway-5 (p5, c1, k60).')
    // The password: a listener that only lets alice in with her password, the token.
    const withUsername = await connectWithToken({ brokerUrl: mqttUrl('password'), getToken: async () => ({ ...token(7), clientId: 'gateway-6' }), sendUsername: true, mqtt: { protocolVersion: 5, reconnectPeriod: 0 } })
    clients.push(withUsername)
    expect(withUsername.connected).toBe(true)
    expect(await acceptedConnect(withUsername)).toBe("as gateway-6 (p5, c1, k60, u'alice').")
  })

  it('maps the MQTT 5 CONNACK reason codes mosquitto refuses with to typed errors', async () => {
    const refusal = async (brokerUrl: string, t: ConnectToken, mqtt: IClientOptions = {}): Promise<unknown> =>
      connectWithToken({ brokerUrl, getToken: async () => t, sendUsername: true, mqtt: { protocolVersion: 5, reconnectPeriod: 0, ca: mosquitto.ca, ...mqtt } }).catch((e: unknown) => e)
    const certificateIdentity = `mqtts://127.0.0.1:${mosquitto.port('certificateIdentity')}`
    // alice with another token than the one the broker knows
    expect(await refusal(mqttUrl('password'), token(1, 300))).toMatchObject({ code: 'ERR_NOT_AUTHORIZED', returnCode: 0x87 })
    expect(await refusal(certificateIdentity, token(1, -1))).toMatchObject({ code: 'ERR_BROKER_TOKEN_EXPIRED', returnCode: 0x86 })
    expect(await refusal(certificateIdentity, token(1, 300))).toMatchObject({ code: 'ERR_CONNECT_REFUSED', returnCode: 0x86, message: 'broker refused the connection (CONNACK 134: bad user name or password)' })
    // a CONNECT asking for extended authentication, which mosquitto without an auth plugin does not offer
    const badMethod = await refusal(mqttUrl('open'), token(1, 300), { properties: { authenticationMethod: 'SCRAM-SHA-1' } })
    expect(badMethod).toBeInstanceOf(ConnectRefused)
    expect(badMethod).toMatchObject({ code: 'ERR_CONNECT_REFUSED', returnCode: 0x8c, message: 'broker refused the connection (CONNACK 140: bad authentication method)' })
  })

  it('reconnects with each renewed token, and ends the client with NotAuthorized once mosquitto refuses one (0x87)', async () => {
    // token n is user-n's password; the broker knows user-1 and user-2 only
    let n = 0
    const refusals: BrokerRefusal[] = []
    const client = await connectWithToken({
      brokerUrl: mqttUrl('password'), sendUsername: true, renewBeforeSeconds: 0.8,
      mqtt: { protocolVersion: 5, reconnectPeriod: 60_000 }, // only the proactive reconnect can reconnect within this test
      getToken: async () => { n += 1; return { token: `token-${n}`, clientId: 'gateway-7', username: `user-${n}`, expiresAt: Date.now() / 1000 + 1 } },
      onRefused: (err) => refusals.push(err),
    })
    clients.push(client)
    client.on('error', () => undefined)
    await new Promise<void>((resolve) => client.once('end', () => resolve()))
    await until(() => refusals.length > 0)
    expect(refusals.map((e) => [e.constructor, e.code, e.returnCode])).toEqual([[NotAuthorized, 'ERR_NOT_AUTHORIZED', 0x87]])
    const accepted = (): string[] => mosquitto.output().split('\n').filter((l) => l.includes(' as gateway-7 (')).map((l) => l.replace(/^.* as /, ''))
    await until(() => accepted().length >= 2)
    expect(accepted()).toEqual(["gateway-7 (p5, c1, k60, u'user-1').", "gateway-7 (p5, c1, k60, u'user-2')."])
  })
})
