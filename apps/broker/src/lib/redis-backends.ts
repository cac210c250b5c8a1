import mqemitterRedis from 'mqemitter-redis'
import aedesPersistenceRedis from 'aedes-persistence-redis'
import { Redis } from 'ioredis'
import type { LogFn } from '@mqtt-oidc/broker-auth'

/** aedes' message bus and session store on one Redis: the nodes sharing it are one broker. */
export interface RedisBackends {
  readonly mq: ReturnType<typeof mqemitterRedis>
  readonly persistence: object
  /** The persistence's connection, ours to close (its own destroy() waits on the mq aedes has closed). */
  readonly connection: Redis
  /** Whether all three connections (persistence, publish, subscribe) are ready, and each one's ioredis status. */
  state(): { readonly ok: boolean; readonly connections: Readonly<Record<RedisRole, string>> }
  /**
   * For a shutdown while Redis is away: ends the three connections now (their queued commands
   * fail) instead of waiting for a Redis that may not come back. Without it, closing aedes waits
   * on commands and QUITs queued in ioredis until Redis returns.
   */
  abandon(): void
}

type RedisRole = 'persistence' | 'publish' | 'subscribe'

/**
 * aedes' own Redis backends (mqemitter-redis: publishes fan out to every node;
 * aedes-persistence-redis: subscriptions, sessions, retained and QoS 1/2
 * messages), from a `redis://[user:password@]host:port[/db]` URL.
 *
 * Made to outlive Redis going away and coming back (a restart, a failover):
 * - Every connection has an error listener. Without one, mqemitter-redis
 *   re-emits a connection error on an emitter nobody listens to, which throws
 *   and ends the process at the first refused reconnect.
 * - The subscribe connection skips ioredis' ready check (an INFO command).
 *   ioredis 5 writes a SUBSCRIBE at once while the connection is still
 *   handshaking. A client subscribing as Redis comes back therefore puts the
 *   connection in subscriber mode before the INFO is sent; the INFO is
 *   refused, its promise rejects unhandled (the process ends) and the
 *   connection is dropped with the subscriptions it was making. A subscribe
 *   connection has no use for INFO: Redis answers SUBSCRIBE while loading.
 * - An outage is logged once at warn (ioredis retries with its back-off and
 *   re-subscribes), and its end once at info; `state()` feeds `/readyz`.
 */
export function createRedisBackends(url: string, log: LogFn = () => {}): RedisBackends {
  const options = redisOptions(url)
  const connections: Record<RedisRole, Redis> = {
    persistence: new Redis(options),
    publish: new Redis(options),
    subscribe: new Redis({ ...options, enableReadyCheck: false }),
  }
  handleUnawaitedCommands(connections.persistence, ['lrem', 'rpush'])
  handleUnawaitedCommands(connections.publish, ['quit'])
  handleUnawaitedCommands(connections.subscribe, ['quit', 'select', 'subscribe', 'psubscribe'])
  const mq = mqemitterRedis({ ...options, pubConn: connections.publish, subConn: connections.subscribe })
  // mqemitter-redis re-emits its connections' errors here; they are reported per connection below
  mq.state.on('error', () => {})
  const hold = holdPublishesUntilPeersListen(mq as unknown as Emitter, connections.publish, connections.subscribe, log)
  const down = new Map<RedisRole, number>()
  for (const [role, conn] of Object.entries(connections) as Array<[RedisRole, Redis]>) {
    conn.on('error', (err: Error) => {
      if (down.has(role)) return
      down.set(role, Date.now())
      log('warn', 'Redis unreachable: this node waits for it (publishes to other nodes, sessions and retained messages); ioredis retries', {
        connection: role,
        err: err.message,
      })
    })
    conn.on('ready', () => {
      const since = down.get(role)
      if (since === undefined) return
      down.delete(role)
      log('info', 'Redis reachable again', { connection: role, down_ms: Date.now() - since })
    })
  }
  return {
    mq,
    persistence: guardRetainedReads(aedesPersistenceRedis({ conn: connections.persistence }), log),
    connection: connections.persistence,
    state() {
      const statuses = Object.fromEntries(Object.entries(connections).map(([role, conn]) => [role, conn.status])) as Record<RedisRole, string>
      return { ok: Object.values(statuses).every((s) => s === 'ready'), connections: statuses }
    },
    abandon() {
      hold.abandon()
      // mqemitter-redis' close waits for both connections' 'end': start it before ending them
      mq.close(() => {})
      for (const conn of Object.values(connections)) {
        // what aedes still sends while it closes its clients (their unsubscribes, for one) fails at once
        conn.options.enableOfflineQueue = false
        conn.disconnect()
        // between two reconnect attempts, disconnect() ends nothing: fail what waits there (its QUIT too)
        if (conn.status === 'reconnecting') failQueued(conn)
      }
    },
  }
}

type UnawaitedCommand = 'lrem' | 'rpush' | 'quit' | 'select' | 'subscribe' | 'psubscribe'

/**
 * Commands sent without anyone waiting on them: aedes-persistence-redis' LREM and RPUSH when a
 * client with a will connects or leaves (and LREM when it drops a stale queue entry),
 * mqemitter-redis' QUITs when it closes, and the SELECT, SUBSCRIBE and PSUBSCRIBE with which
 * ioredis subscribes again after a reconnect. When Redis is away longer than ioredis retries a command
 * (about 10 s), or a node closes during an outage, those fail, and a rejected promise nobody
 * handles ends the process (Node's default). Each one gets a no-op handler here; whoever does
 * wait on it still sees the failure.
 */
function handleUnawaitedCommands(conn: Redis, names: readonly UnawaitedCommand[]): void {
  const commands = conn as unknown as Record<UnawaitedCommand, (...args: unknown[]) => Promise<unknown>>
  for (const name of names) {
    const send = commands[name].bind(conn)
    commands[name] = (...args) => {
      const sent = send(...args)
      sent.catch(() => {})
      return sent
    }
  }
}

type RetainedReads = { createRetainedStreamCombi(patterns: string[]): NodeJS.ReadableStream }

/**
 * aedes pipes the retained messages a SUBSCRIBE matches from this stream, with no error listener:
 * a Redis command failing there (Redis away past ioredis' retries, or a node closing during an
 * outage) would end the process. The subscription stands; its retained messages are not sent,
 * and the log says so.
 */
function guardRetainedReads<P extends object>(persistence: P, log: LogFn): P {
  const reads = persistence as unknown as RetainedReads
  const combi = reads.createRetainedStreamCombi.bind(persistence)
  reads.createRetainedStreamCombi = (patterns) => {
    const stream = combi(patterns)
    stream.on('error', (err: Error) => {
      log('warn', 'retained messages not sent for a SUBSCRIBE: Redis unreachable', { filters: patterns, err: err.message })
    })
    return stream
  }
  return persistence
}

/** What a publish or command still waiting when `abandon()` ends the connections fails with. */
const ABANDONED = 'Redis unreachable: the broker node is closing'

/**
 * Fails the commands queued on a connection that is between two reconnect attempts (most of an
 * outage). ioredis' `disconnect()` does not there: it cancels the next attempt but emits no
 * 'end' and leaves its queues waiting for ever (aedes' session writes, and with them aedes' close
 * of every client that made one). ioredis fails queued commands itself through `flushQueue` (its
 * 20-retries limit does); it is called here for the same purpose.
 */
function failQueued(conn: Redis): void {
  const internals = conn as unknown as { flushQueue?: (err: Error) => void }
  internals.flushQueue?.(new Error(ABANDONED))
}

/**
 * The channel every node's subscribe connection listens on, so that a node can count its peers
 * (`PUBSUB NUMSUB`). mqemitter-redis names channels after MQTT topics; none can contain `#`.
 */
export const NODES_CHANNEL = 'mqtt-oidc#broker-nodes'
/** How often the number of listening nodes is sampled while Redis is up, ms (`PUBSUB NUMSUB` is O(1)). */
const PEER_SAMPLE_MS = 1000
/** The longest publishes are held once this node is connected again, waiting for nodes that do not come back, ms. */
const PEER_WAIT_MS = 5000
/** After enough nodes listen again, how long their pattern subscriptions (sent right after the channels) get, ms. */
const PATTERN_SETTLE_MS = 100
/** Publishes held while Redis is away; beyond this, new ones fail (and are logged) instead of filling memory. */
const MAX_HELD = 100_000

type Emitter = { emit(packet: object, done?: (err?: Error) => void): void }

/**
 * Holds this node's publishes while Redis is away, and after it is back
 * until as many nodes listen as did before, so that what a node accepted
 * during an outage is not published into a Redis where the other nodes have
 * not subscribed again (Redis pub/sub delivers only to who listens at that
 * instant). aedes acknowledges a QoS 1 PUBLISH before it publishes it, so a
 * publish lost there is an acknowledged message lost. Found by the soak:
 * after a Redis restart, one node's publish connection was ready 32 ms
 * before the other node's subscribe connection had subscribed again.
 *
 * How: every node's subscribe connection also listens on NODES_CHANNEL
 * (ioredis re-subscribes it with the rest, channels before patterns); while
 * Redis is up the node samples how many listen there. Once both of its own
 * connections are ready again, it waits until that many listen (at most
 * PEER_WAIT_MS: a node that died meanwhile is not waited for), then
 * publishes what it held, in order, after what was in flight when the
 * connection closed (ioredis resends those at once, maybe into a Redis
 * nobody listens to yet: they go again, a QoS 1 duplicate at worst).
 */
function holdPublishesUntilPeersListen(mq: Emitter, publish: Redis, subscribe: Redis, log: LogFn): { abandon(): void } {
  const emit = mq.emit.bind(mq)
  type Done = ((err?: Error) => void) | undefined
  const held: Array<[object, Done]> = []
  /** Handed to Redis, no reply yet: if the connection closes now, Redis may never have delivered them. */
  const inFlight = new Set<object>()
  /** Those, to publish again after the outage (before what was held): at least once, a duplicate at worst. */
  const again: object[] = []
  let peers = 1
  let holding = false
  let overflowLogged = false
  let releasing: NodeJS.Timeout | undefined
  let abandoned = false
  subscribe.subscribe(NODES_CHANNEL).catch(() => {})
  const listening = async (): Promise<number> => {
    const reply = (await publish.call('PUBSUB', 'NUMSUB', NODES_CHANNEL)) as [string, number]
    return Number(reply[1])
  }
  const up = (): boolean => publish.status === 'ready' && subscribe.status === 'ready'
  const sample = setInterval(() => {
    if (holding || !up()) return
    listening().then(
      (n) => {
        if (!holding) peers = n
      },
      () => {},
    )
  }, PEER_SAMPLE_MS)
  sample.unref()
  const stopTimers = (): void => {
    clearInterval(sample)
    clearTimeout(releasing)
  }
  publish.once('end', stopTimers)

  /** Packets moved to `again`: their first attempt's failure is not aedes' to see. */
  const rescued = new WeakSet<object>()
  const send = (packet: object, done: Done): void => {
    inFlight.add(packet)
    emit(packet, (err) => {
      inFlight.delete(packet)
      // ioredis fails what was in flight once it has retried 20 times; aedes would close the
      // publisher's connection for it, although the packet goes again after the outage
      done?.(err && rescued.has(packet) ? undefined : err)
    })
  }
  /** One check at a time: it polls until enough nodes listen (or PEER_WAIT_MS), then publishes what was held. */
  const release = (): void => {
    if (releasing || !holding || !up()) return
    const since = Date.now()
    const retry = (): void => void (releasing = setTimeout(check, 50))
    const check = (): void => {
      if (!up()) return void (releasing = undefined) // down again: the next ready starts over
      listening().then((n) => {
        if (n < peers && Date.now() - since < PEER_WAIT_MS) return retry()
        if (n < peers) log('warn', 'Redis back, but fewer broker nodes listen than before; publishing what was held', { nodes: n, before: peers })
        // a peer re-subscribes its channels (ours among them) one command before its patterns: give those a moment too
        releasing = setTimeout(() => {
          releasing = undefined
          if (!up()) return
          holding = false
          peers = n
          overflowLogged = false
          // tracked like any publish: if Redis goes away again before it answers, they are held again
          for (const packet of again.splice(0)) send(packet, undefined)
          for (const [packet, done] of held.splice(0)) send(packet, done)
        }, PATTERN_SETTLE_MS)
      }, retry)
    }
    releasing = setTimeout(check, 0)
  }
  publish.on('close', () => {
    holding = true
    // ioredis sends these again as soon as it reconnects: maybe before the other nodes listen again
    for (const packet of inFlight) {
      rescued.add(packet)
      again.push(packet)
    }
    inFlight.clear()
  })
  subscribe.on('close', () => {
    holding = true
  })
  for (const conn of [publish, subscribe]) conn.on('ready', release)
  mq.emit = (packet, done) => {
    if (abandoned) return done?.(new Error(ABANDONED))
    if (!holding && up()) return send(packet, done)
    holding = true
    if (held.length >= MAX_HELD) {
      if (!overflowLogged) log('error', 'Redis away too long: publishes beyond the held limit are dropped', { held: MAX_HELD })
      overflowLogged = true
      return done?.(new Error('Redis unreachable: publish dropped'))
    }
    held.push([packet, done])
    release()
  }
  return {
    /** The node closes while Redis is away: what is held fails now (its senders wait on it), and so does what comes; the timers stop. */
    abandon() {
      abandoned = true
      holding = false
      stopTimers()
      again.length = 0
      for (const [, done] of held.splice(0)) done?.(new Error(ABANDONED))
    },
  }
}

/**
 * Closes the persistence's Redis connection after aedes closed (aedes closes only the mq).
 * Only a connected one is sent QUIT: between two reconnect attempts, ioredis queues a QUIT
 * behind the session writes waiting there, and once this has cancelled the next attempt,
 * nothing ever sends them: the close would wait for ever.
 */
export async function closeRedisBackends(backends: RedisBackends): Promise<void> {
  const conn = backends.connection
  if (conn.status !== 'ready') return void conn.disconnect()
  await conn.quit().catch(() => {
    conn.disconnect()
  })
}

/** ioredis options from a redis:// URL (both backends take ioredis options). */
export function redisOptions(url: string): Record<string, unknown> {
  const u = new URL(url)
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') throw new TypeError('the Redis URL must be redis:// or rediss://')
  const db = u.pathname.replace(/^\//, '')
  return {
    host: u.hostname.replace(/^\[|\]$/g, ''),
    port: u.port ? Number(u.port) : 6379,
    ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
    ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
    ...(db ? { db: Number(db) } : {}),
    ...(u.protocol === 'rediss:' ? { tls: {} } : {}),
  }
}
