/**
 * Two broker nodes sharing a real Redis, and that Redis restarted under
 * them while a client keeps subscribing (as a fleet does when it comes back):
 * both nodes stay up, say so in `/readyz` and their log, and afterwards a
 * publish on node A reaches every subscription made on node B, including
 * those made while Redis was away or coming back, and every QoS 1 message
 * node A acknowledged while Redis was away, also when node B reaches Redis
 * again later than node A, and when Redis drops again while node A publishes
 * what it held. A node closed during an outage closes, with a client that
 * subscribes and has a will; in an outage longer than ioredis' retries,
 * nothing goes unhandled (a client with a will leaving). Then the exact moment
 * that used to drop a node's subscriptions: a SUBSCRIBE sent while the
 * subscribe connection is handshaking with a Redis that just came back.
 */
import { Writable } from 'node:stream'
import { Redis } from 'ioredis'
import type { MqttClient } from 'mqtt'
import { pino } from 'pino'
import type { Logger } from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createBroker } from '../src/index.js'
import type { Broker, BrokerAddresses } from '../src/index.js'
import { startFakeExchange } from '@mqtt-oidc/test-support/fake-exchange'
import type { FakeExchange } from '@mqtt-oidc/test-support/fake-exchange'
import { startRedis } from '@mqtt-oidc/test-support/start-redis'
import type { TestRedis } from '@mqtt-oidc/test-support/start-redis'
import { createTokenKit } from '@mqtt-oidc/test-support/token-kit'
import type { TokenKit } from '@mqtt-oidc/test-support/token-kit'
import { connected, connectRaw } from '@mqtt-oidc/test-support/mqtt'
import { until } from '@mqtt-oidc/test-support/until'
import { startTcpRelay } from '@mqtt-oidc/test-support/tcp-relay'
import type { TcpRelay } from '@mqtt-oidc/test-support/tcp-relay'
import { createRedisBackends } from '../src/lib/redis-backends.js'

const BROKER = 'demo'
const ALL = { pub: ['#'], sub: ['#'] }

let exchange: FakeExchange
let kit: TokenKit
let redis: TestRedis
const nodes: Array<{ broker: Broker; at: BrokerAddresses; lines: LogLine[] }> = []
const clients: MqttClient[] = []
/** Promise rejections nobody handled while the test ran (ioredis' refused ready check was one, and ended the process). */
const unhandled: unknown[] = []
const onUnhandled = (reason: unknown): void => void unhandled.push(reason)

async function client(node: number | BrokerAddresses, id: string): Promise<MqttClient> {
  const password = await kit.sign({ sub: id, acl: ALL })
  const url = typeof node === 'number' ? nodes[node]!.at.mqttUrl : node.mqttUrl
  const c = await connected(url, { clientId: id, username: id, password, reconnectPeriod: 0 })
  clients.push(c)
  return c
}

async function ready(node: number | BrokerAddresses): Promise<{ status: number; body: { checks: Record<string, { ok: boolean }> } }> {
  const at = typeof node === 'number' ? nodes[node]!.at : node
  const res = await fetch(at.metricsUrl!.replace('/metrics', '/readyz'))
  return { status: res.status, body: (await res.json()) as { checks: Record<string, { ok: boolean }> } }
}

/** mqemitter's interface, as aedes uses the bus createRedisBackends makes. */
type Emitter = {
  on(topic: string, notify: (packet: { topic: string }, cb: () => void) => void, done?: () => void): void
  emit(packet: object, cb?: () => void): void
}

type LogLine = { level: number; msg: string; connection?: string; nodes?: number; before?: number; client_id?: string; code?: string; clean?: boolean }

/** A pino logger at info whose lines, parsed, land in `lines` (silent without). */
function logger(lines?: LogLine[]): Logger {
  if (!lines) return pino({ level: 'silent' })
  return pino({ level: 'info' }, new Writable({ write: (chunk: Buffer, _enc, done) => (lines.push(JSON.parse(chunk.toString())), done()) }))
}

/** A node of this broker on `redisUrl`, on free ports. */
function brokerNode(redisUrl: string, log: Logger, metricsPort?: number): Broker {
  return createBroker({ brokerId: BROKER, exchangeUrl: exchange.url, redisUrl, mqttPort: 0, wsPort: 0, metricsPort, logger: log })
}

/** Whether `p` settles within `ms` (a close that hangs is reported, not waited for). */
function settlesWithin(p: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined
  const late = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), ms)))
  return Promise.race([p.then(() => true), late]).finally(() => clearTimeout(timer))
}

/**
 * Node A on Redis and node B on it through a relay the test cuts (B can come back later than A),
 * a subscriber to `prefix/#` on node B whose topics land in `got`, and both nodes having counted
 * each other. `close` ends the nodes and the relay.
 */
async function nodeBBehindRelay(
  prefix: string,
): Promise<{ atA: BrokerAddresses; atB: BrokerAddresses; relay: TcpRelay; got: Set<string>; close(): Promise<void> }> {
  const relay = await startTcpRelay([Number(new URL(redis.url).port)])
  const a = brokerNode(redis.url, logger())
  const b = brokerNode(`redis://127.0.0.1:${relay.port}`, logger(), 0)
  const close = async (): Promise<void> => {
    await Promise.all([a.close(), b.close()])
    await relay.close()
  }
  try {
    const [atA, atB] = [await a.listen(), await b.listen()]
    const subscriber = await client(atB, `${prefix}-sub`)
    await subscribed(subscriber, `${prefix}/#`)
    const got = new Set<string>()
    subscriber.on('message', (topic) => void got.add(topic))
    await new Promise((resolve) => setTimeout(resolve, 1500)) // each node has counted the other
    return { atA, atB, relay, got, close }
  } catch (err) {
    await close()
    throw err
  }
}

/** SUBSCRIBE `filter`; resolves on its SUBACK. */
function subscribed(c: MqttClient, filter: string, qos: 0 | 1 = 1): Promise<void> {
  return new Promise((resolve, reject) => c.subscribe(filter, { qos }, (err) => (err ? reject(err) : resolve())))
}

beforeAll(async () => {
  process.on('unhandledRejection', onUnhandled)
  ;[exchange, redis] = await Promise.all([startFakeExchange({ broker: BROKER }), startRedis()])
  kit = await createTokenKit({ issuer: exchange.url, audience: BROKER })
  exchange.jwks = { keys: [kit.publicJwk] }
  for (let i = 0; i < 2; i++) {
    const lines: LogLine[] = []
    const broker = brokerNode(redis.url, logger(lines), 0)
    nodes.push({ broker, at: await broker.listen(), lines })
  }
})

afterAll(async () => {
  process.off('unhandledRejection', onUnhandled)
  for (const c of clients) c.end(true)
  await Promise.all(nodes.map((n) => n.broker.close()))
  await Promise.all([redis?.stop(), exchange?.close()])
})

describe('broker nodes sharing Redis: Redis restarts under them', () => {
  it('keeps both nodes up, reports the outage, and delivers across nodes to every subscription made through it', async () => {
    const subscriber = await client(1, 'sub-b')
    const publisher = await client(0, 'pub-a')
    const received = new Set<string>()
    subscriber.on('message', (topic) => void (topic.startsWith('fleet/') && received.add(topic)))
    const filters: string[] = []
    const subscribeNext = (): void => {
      const filter = `fleet/${filters.length}/#`
      filters.push(filter)
      subscriber.subscribe(filter, { qos: 0 })
    }
    subscribeNext()
    // QoS 1 readings published on node A while Redis is away (aedes acknowledges them at once),
    // for a subscription on node B made before: every one must arrive once Redis is back
    await subscribed(subscriber, 'held/#')
    const heldReceived = new Set<string>()
    subscriber.on('message', (topic) => void (topic.startsWith('held/') && heldReceived.add(topic)))
    let heldSent = 0
    const publishHeld = (): void => void publisher.publish(`held/${heldSent++}`, 'x', { qos: 1 })
    expect((await ready(0)).status).toBe(200)
    // nodes that have been up a while: each has counted the other (it samples every second)
    await new Promise((resolve) => setTimeout(resolve, 1500))

    // Redis away for a second; new filters every 3 ms meanwhile and for 2 s after it is back, so
    // some reach the subscribe connection while it is handshaking again
    const subscribing = setInterval(subscribeNext, 3)
    const publishing = setInterval(publishHeld, 5)
    try {
      await redis.down()
      await until(
        async () => {
          const r = await ready(0)
          return r.status === 503 && r.body.checks.redis?.ok === false
        },
        20_000,
        'node A not ready while Redis is away',
      )
      await new Promise((resolve) => setTimeout(resolve, 1000))
      clearInterval(publishing)
      await redis.restart()
      await new Promise((resolve) => setTimeout(resolve, 2000))
    } finally {
      clearInterval(subscribing)
      clearInterval(publishing)
    }
    await until(async () => (await ready(0)).status === 200 && (await ready(1)).status === 200, 20_000, 'both nodes ready again')
    // every SUBSCRIBE answered: the subscriptions are in place on node B
    await subscribed(subscriber, 'fence/#', 0)
    expect(filters.length).toBeGreaterThan(300)

    expect(heldSent).toBeGreaterThan(50)
    await until(() => heldReceived.size === heldSent, 10_000, `all ${heldSent} QoS 1 publishes made on node A while Redis was away reach node B`)
    for (let i = 0; i < filters.length; i++) publisher.publish(`fleet/${i}/reading`, 'x', { qos: 0 })
    await until(() => received.size === filters.length, 20_000, `all ${filters.length} publishes on node A reach node B`)
    expect(subscriber.connected && publisher.connected).toBe(true)
    expect(unhandled).toEqual([])
    for (const { lines } of nodes) {
      expect(lines.filter((l) => l.level >= 50)).toEqual([])
      expect(lines.filter((l) => l.msg.startsWith('Redis unreachable')).length).toBeGreaterThan(0)
      expect(
        lines
          .filter((l) => l.msg === 'Redis reachable again')
          .map((l) => l.connection)
          .sort(),
      ).toEqual(['persistence', 'publish', 'subscribe'])
    }
  }, 60_000)
})

describe('broker nodes sharing Redis: one node comes back later than the other', () => {
  it('holds what the first node accepted until the other listens again, then delivers all of it', async () => {
    // node B reaches Redis through a relay that stays cut 1.5 s after Redis is back
    const { atA, relay, got, close } = await nodeBBehindRelay('lag')
    try {
      const publisher = await client(atA, 'lag-pub')
      let sent = 0
      const publishing = setInterval(() => void publisher.publish(`lag/${sent++}`, 'x', { qos: 1 }), 5)
      try {
        await redis.down()
        relay.cut()
        await new Promise((resolve) => setTimeout(resolve, 1000))
        await redis.restart()
        await new Promise((resolve) => setTimeout(resolve, 1500)) // node A is back, node B is not
        relay.restore()
      } finally {
        clearInterval(publishing)
      }
      expect(sent).toBeGreaterThan(200)
      await until(() => got.size === sent, 15_000, `all ${sent} QoS 1 publishes node A accepted reach node B`)
      expect(unhandled).toEqual([])
    } finally {
      await close()
    }
  }, 60_000)
})

describe('broker nodes sharing Redis: Redis goes away again while a node publishes what it held', () => {
  it('holds what was in flight at the second drop too, published again or not, until the other node listens', async () => {
    // Redis blocks PUBLISH while writes are paused: what node A publishes then stays in flight
    // (no reply), and what a Redis that stops meanwhile never ran is lost unless node A sends it again
    const pauseWrites = async (): Promise<void> => {
      const side = new Redis(redis.url, { lazyConnect: true, maxRetriesPerRequest: 0 })
      try {
        await side.connect()
        await side.call('CLIENT', 'PAUSE', '20000', 'WRITE')
      } finally {
        side.disconnect()
      }
    }
    const { atA, atB, relay, got, close } = await nodeBBehindRelay('twice')
    try {
      const publishers = await Promise.all([0, 1, 2].map((i) => client(atA, `twice-pub-${i}`)))
      let sent = 0
      const publishing = setInterval(() => {
        for (const p of publishers) p.publish(`twice/${sent++}`, 'x', { qos: 1 })
      }, 5)
      try {
        // first drop: what node A published in the last 300 ms is in flight when Redis stops
        await pauseWrites()
        await new Promise((resolve) => setTimeout(resolve, 300))
        relay.cut()
        await redis.down()
        // back without node B: node A reconnects and holds on, counting listeners until B is back
        await redis.restart(300)
        await new Promise((resolve) => setTimeout(resolve, 1000))
        // writes paused before node B returns: what node A releases once B listens (the packets in
        // flight at the first drop first) stays in flight in Redis
        await pauseWrites()
        relay.restore()
        await until(async () => (await ready(atB)).status === 200, 10_000, 'node B back on Redis')
        await new Promise((resolve) => setTimeout(resolve, 1000)) // node A has released into the paused Redis
        // second drop, node B away longer again: what node A sends at once on reconnecting reaches nobody
        relay.cut()
        await redis.down()
        await redis.restart(300)
        await new Promise((resolve) => setTimeout(resolve, 1500))
        relay.restore()
      } finally {
        clearInterval(publishing)
      }
      expect(sent).toBeGreaterThan(500)
      await until(
        () => got.size === sent,
        15_000,
        () => `all ${sent} QoS 1 publishes node A accepted across two drops reach node B (${got.size} did)`,
      )
      expect(unhandled).toEqual([])
    } finally {
      await close()
    }
  }, 60_000)
})

describe('broker nodes sharing Redis: a node closed while Redis is away, never to come back', () => {
  it('closes without waiting for Redis; the other node waits for it 5 s, says so at warn, then delivers what it held', async () => {
    const lines: LogLine[] = []
    const a = brokerNode(redis.url, logger(lines))
    const gone = brokerNode(redis.url, logger())
    let goneClosing: Promise<void> | undefined
    try {
      const atA = await a.listen()
      const atGone = await gone.listen()
      const subscriber = await client(atA, 'gone-sub')
      const publisher = await client(atA, 'gone-pub')
      // with a will, which the closing node publishes as it closes the connection
      const goneClient = await connected(atGone.mqttUrl, {
        clientId: 'gone-client',
        username: 'gone-client',
        password: await kit.sign({ sub: 'gone-client', acl: ALL }),
        reconnectPeriod: 0,
        will: { topic: 'gone-client/will', payload: Buffer.from('gone'), qos: 1, retain: false },
      })
      clients.push(goneClient)
      await subscribed(subscriber, 'gone/#')
      const got = new Set<string>()
      subscriber.on('message', (topic) => void got.add(topic))
      await new Promise((resolve) => setTimeout(resolve, 1500)) // node A has counted every node
      await redis.down()
      // a SUBSCRIBE during the outage: its session write waits in ioredis' queue, on a connection between two reconnect attempts
      goneClient.subscribe('gone-client/#')
      await new Promise((resolve) => setTimeout(resolve, 300))
      // a shutdown during the outage: it used to wait for Redis to come back, and with that write queued, for ever
      goneClosing = gone.close()
      expect(await settlesWithin(goneClosing, 10_000), 'node closed while Redis is away, with a session write queued').toBe(true)
      for (let i = 0; i < 20; i++) publisher.publish(`gone/${i}`, 'x', { qos: 1 })
      const back = Date.now()
      await redis.restart(500)
      await until(() => got.size === 20, 15_000, 'what node A held while Redis was away is delivered')
      // held for the full wait: the node that closed never listened again
      expect(Date.now() - back).toBeGreaterThanOrEqual(5000)
      const warned = lines.filter((l) => l.msg.startsWith('Redis back, but fewer broker nodes listen than before'))
      expect(warned).toHaveLength(1)
      expect(warned[0]!.nodes).toBeLessThan(warned[0]!.before!)
      expect(unhandled).toEqual([])
    } finally {
      await Promise.all([settlesWithin(a.close(), 10_000), settlesWithin(goneClosing ?? gone.close(), 10_000)])
    }
  }, 60_000)
})

describe('broker nodes sharing Redis: an outage longer than ioredis retries a command', () => {
  it('keeps the clients connected and delivers what was accepted meanwhile; new clients connect afterwards', async () => {
    // ioredis gives a queued command 20 reconnect attempts (about 10 s at its default back-off); 15 s down outlasts them
    const subscriber = await client(1, 'long-sub')
    const publisher = await client(0, 'long-pub')
    const late = await client(1, 'long-late')
    const withWill = await connected(nodes[1]!.at.mqttUrl, {
      clientId: 'long-will',
      username: 'long-will',
      password: await kit.sign({ sub: 'long-will', acl: ALL }),
      reconnectPeriod: 0,
      will: { topic: 'long-will/gone', payload: Buffer.from('gone'), qos: 1, retain: false },
    })
    clients.push(withWill)
    await subscribed(subscriber, 'long/#')
    const got = new Set<string>()
    subscriber.on('message', (topic) => void (topic.startsWith('long/') && got.add(topic)))
    let sent = 0
    const publishing = setInterval(() => void publisher.publish(`long/${sent++}`, 'x', { qos: 1 }), 100)
    try {
      // a burst just before Redis goes: some of it is in flight to Redis when it stops
      for (let i = 0; i < 200; i++) publisher.publish(`long/${sent++}`, 'x', { qos: 1 })
      const back = redis.restart(15_000)
      // a SUBSCRIBE in the outage: its session write and its retained-message read wait in ioredis, which fails them after its retries
      await new Promise((resolve) => setTimeout(resolve, 1000))
      late.subscribe('long-late/#', { qos: 1 })
      // and a client with a will leaving: aedes' Redis persistence deletes the will without waiting on the command
      withWill.end()
      await back
    } finally {
      clearInterval(publishing)
    }
    expect(sent).toBeGreaterThan(340)
    await until(
      () => got.size === sent,
      20_000,
      () => `all ${sent} QoS 1 publishes accepted during 15 s without Redis reach node B (${got.size} did)`,
    )
    expect(subscriber.connected && publisher.connected).toBe(true)
    await client(1, 'long-after')
    expect(unhandled).toEqual([])
    for (const { lines } of nodes) expect(lines.filter((l) => l.level >= 50)).toEqual([])
  }, 90_000)
})

describe('createRedisBackends: a subscription made while the subscribe connection handshakes', () => {
  it('is kept, with no error and nothing unhandled (ioredis 5 refused its own ready check there)', async () => {
    const a = createRedisBackends(redis.url)
    const b = createRedisBackends(redis.url)
    const errors: unknown[] = []
    for (const conn of [a.connection, b.connection]) conn.on('error', () => {})
    b.mq.state.on('error', (err: unknown) => void errors.push(err))
    const mqA = a.mq as unknown as Emitter
    const mqB = b.mq as unknown as Emitter
    const got: string[] = []
    const subscribed = (topic: string): Promise<void> => new Promise((resolve) => mqB.on(topic, (packet, cb) => (got.push(packet.topic), cb()), resolve))
    try {
      await subscribed('before/#')
      const late: Array<Promise<void>> = []
      // 'subConnect': the subscribe connection's socket is open and ioredis is sending its handshake
      b.mq.state.on('subConnect', () => void late.push(subscribed(`late/${late.length}/#`)))
      for (let round = 0; round < 3; round++) {
        await redis.restart(200)
        await until(() => a.state().ok && b.state().ok, 20_000, `round ${round}: both backends ready again`)
      }
      await until(() => late.length >= 3, 20_000, 'a subscription made during each handshake')
      let answered = 0
      for (const p of late) void p.then(() => answered++)
      await until(() => answered === late.length, 20_000, `every late subscription answered (${late.length})`)
      for (const topic of ['before/x', ...late.map((_, i) => `late/${i}/x`)]) mqA.emit({ topic, payload: Buffer.from('x') })
      await until(() => got.length === late.length + 1, 20_000, `all ${late.length + 1} reach the other backend`)
      // while Redis is down its connections are refused; nothing else may go wrong
      expect(errors.map(String).filter((e) => !/ECONNREFUSED|ECONNRESET/.test(e))).toEqual([])
      expect(unhandled).toEqual([])
      // the subscribe connection was never dropped for a refused INFO
      expect(b.state().connections.subscribe).toBe('ready')
    } finally {
      // bounded: a subscribe connection left in a bad state may never answer QUIT
      const closing = Promise.all([a, b].map((x) => new Promise<void>((resolve) => x.mq.close(() => resolve()))))
      await Promise.race([closing, new Promise((resolve) => setTimeout(resolve, 5000))])
      for (const x of [a, b]) x.connection.disconnect()
    }
  }, 60_000)
})

describe('broker nodes sharing Redis: Redis answers nothing for a while', () => {
  it('logs at warn a client that gave up waiting for its CONNACK while its session was being restored; it connects once Redis answers', async () => {
    const options = { clientId: 'stalled-restore', username: 'stalled-restore', password: await kit.sign({ sub: 'stalled-restore', acl: ALL }), clean: false }
    await (await connected(nodes[0]!.at.mqttUrl, options)).endAsync() // a persistent session for the next CONNECT to restore
    const admin = new Redis(redis.url)
    try {
      // every client's commands wait 3 s: the restore of a persistent session (its subscriptions, in Redis) with them
      await admin.call('CLIENT', 'PAUSE', '3000', 'ALL')
      await expect(connectRaw(nodes[0]!.at.mqttUrl, { ...options, connectTimeout: 1000 })).rejects.toThrow('closed before CONNACK')
      await until(
        () => nodes[0]!.lines.some((l) => l.msg.startsWith('connection closed before its CONNACK') && l.client_id === 'stalled-restore'),
        5000,
        'the warn line',
      )
      expect(nodes[0]!.lines.find((l) => l.client_id === 'stalled-restore' && l.msg.startsWith('connection closed'))).toMatchObject({
        level: 40,
        code: 'ERR_CONNACK_NOT_SENT',
        clean: false,
      })
      await until(async () => (await admin.ping()) === 'PONG', 10_000, 'Redis answering again')
      clients.push(await connected(nodes[0]!.at.mqttUrl, options))
    } finally {
      admin.disconnect()
    }
  }, 30_000)
})

describe('createRedisBackends: closed while its subscriptions are being made again', () => {
  it('leaves no unhandled rejection when the re-subscribe after a reconnect never gets its answer', async () => {
    const relay = await startTcpRelay([Number(new URL(redis.url).port)])
    const backends = createRedisBackends(`redis://127.0.0.1:${relay.port}`)
    const mq = backends.mq as unknown as Emitter
    try {
      // one pattern and one channel: ioredis makes both again after a reconnect (PSUBSCRIBE, SUBSCRIBE)
      await new Promise<void>((resolve) => mq.on('resub/#', (_packet, cb) => cb(), resolve))
      await new Promise<void>((resolve) => mq.on('resub-channel', (_packet, cb) => cb(), resolve))
      await until(() => backends.state().ok, 10_000, 'ready')
      // the next connection's re-subscribe is written as it turns ready; its answer never comes
      const subscribe = (backends.mq as unknown as { subConn: Redis }).subConn
      const stalled = new Promise<void>((resolve) => subscribe.once('ready', () => (relay.stallOpenConnections(), resolve())))
      relay.cut()
      relay.restore()
      await stalled
      await new Promise((resolve) => setTimeout(resolve, 200))
      backends.abandon()
      await new Promise((resolve) => setTimeout(resolve, 500))
      expect(unhandled).toEqual([])
    } finally {
      backends.connection.disconnect()
      await relay.close()
    }
  }, 30_000)
})
