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
  const mq = mqemitterRedis({ ...options, pubConn: connections.publish, subConn: connections.subscribe })
  // mqemitter-redis re-emits its connections' errors here; they are reported per connection below
  mq.state.on('error', () => {})
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
    persistence: aedesPersistenceRedis({ conn: connections.persistence }),
    connection: connections.persistence,
    state() {
      const statuses = {
        persistence: connections.persistence.status,
        publish: connections.publish.status,
        subscribe: connections.subscribe.status,
      }
      return { ok: Object.values(statuses).every((s) => s === 'ready'), connections: statuses }
    },
  }
}

/** Closes the persistence's Redis connection after aedes closed (aedes closes only the mq). */
export async function closeRedisBackends(backends: RedisBackends): Promise<void> {
  await backends.connection.quit().catch(() => {
    backends.connection.disconnect()
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
