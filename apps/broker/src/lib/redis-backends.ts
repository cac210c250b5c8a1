import mqemitterRedis from 'mqemitter-redis'
import aedesPersistenceRedis from 'aedes-persistence-redis'
import { Redis } from 'ioredis'

/** aedes' message bus and session store on one Redis: the nodes sharing it are one broker. */
export interface RedisBackends {
  readonly mq: ReturnType<typeof mqemitterRedis>
  readonly persistence: object
  /** The persistence's connection, ours to close (its own destroy() waits on the mq aedes has closed). */
  readonly connection: Redis
}

/**
 * aedes' own Redis backends (mqemitter-redis: publishes fan out to every node;
 * aedes-persistence-redis: subscriptions, sessions, retained and QoS 1/2
 * messages), from a `redis://[user:password@]host:port[/db]` URL.
 */
export function createRedisBackends(url: string): RedisBackends {
  const options = redisOptions(url)
  const connection = new Redis(options)
  return { mq: mqemitterRedis(options), persistence: aedesPersistenceRedis({ conn: connection }), connection }
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
