import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { freePort } from '@mqtt-oidc/test-support/free-port'
import { startPostgres } from '@mqtt-oidc/test-support/start-postgres'
import type { TestPostgres } from '@mqtt-oidc/test-support/start-postgres'
import { startRedis } from '@mqtt-oidc/test-support/start-redis'
import type { TestRedis } from '@mqtt-oidc/test-support/start-redis'
import { createAppProcess } from './app-process.js'
import type { AppProcess } from './app-process.js'
import type { Monitor } from './monitor.js'
import { startTcpRelay } from '@mqtt-oidc/test-support/tcp-relay'
import type { TcpRelay } from '@mqtt-oidc/test-support/tcp-relay'

const APPS = fileURLToPath(new URL('../../../apps/', import.meta.url))
export const BROKER_ID = 'soak'

export interface StackOptions {
  readonly store: 'sqlite' | 'postgres'
  readonly runDir: string
  /** ID token lifetime, seconds. */
  readonly idTokenTtlS: number
}

/** The running stack: every app a separate process, and what sits between them. */
export interface Stack {
  readonly store: 'sqlite' | 'postgres'
  readonly dataDir: string
  /** postgres:// URL of the shared store (PostgreSQL run). */
  readonly storeUrl: string | undefined
  readonly idpUrl: string
  /** The exchange's public URL: its issuer, and what gateways and the admin client use. */
  readonly exchangeUrl: string
  readonly idp: AppProcess
  readonly exchanges: readonly AppProcess[]
  readonly brokers: readonly AppProcess[]
  /** `mqtt://` URL of each broker node. */
  readonly brokerUrls: readonly string[]
  /** Between each broker node and the exchange it follows (revocation feed and JWKS): the feed faults happen here. */
  readonly feedRelays: readonly TcpRelay[]
  readonly postgres: TestPostgres | undefined
  readonly redis: TestRedis | undefined
  /** Every app process, for memory and logs. */
  readonly apps: readonly AppProcess[]
  close(): Promise<void>
}

/**
 * Starts the stack as separate processes from the apps' own entry points.
 * SQLite: one IdP, one exchange, one broker. PostgreSQL: one IdP, two
 * exchanges behind a TCP balancer (their one public URL), and two broker
 * nodes sharing Redis, node n following exchange n through its own relay.
 */
export async function startStack(options: StackOptions, monitor: Monitor): Promise<Stack> {
  const dataDir = join(options.runDir, 'data')
  const logs = join(options.runDir, 'logs')
  mkdirSync(dataDir, { recursive: true, mode: 0o700 })
  mkdirSync(logs, { recursive: true })
  const closers: Array<() => Promise<void>> = []
  const close = async (): Promise<void> => {
    for (const c of closers.splice(0).reverse()) await c().catch(() => undefined)
  }
  try {
    const nodes = options.store === 'postgres' ? 2 : 1
    const postgres = options.store === 'postgres' ? await startPostgres() : undefined
    if (postgres) closers.push(() => postgres.stop())
    const storeUrl = postgres ? await postgres.createDatabase() : undefined
    // durable (an append-only file), as a production Redis for aedes' sessions and QoS 1 messages is: its restart keeps them
    const redis = options.store === 'postgres' ? await startRedis({ durable: true }) : undefined
    if (redis) closers.push(() => redis.stop())
    const shared = { MQTT_OIDC_DATA_DIR: dataDir, ...(storeUrl ? { MQTT_OIDC_STORE: storeUrl } : {}) }

    const exchangePorts = await Promise.all(Array.from({ length: nodes }, () => freePort()))
    // one public URL for the exchange(s): the balancer in the PostgreSQL run, the exchange itself otherwise
    const balancer = nodes > 1 ? await startTcpRelay(exchangePorts) : undefined
    if (balancer) closers.push(() => balancer.close())
    const exchangeUrl = balancer?.url ?? `http://127.0.0.1:${exchangePorts[0]}`
    const feedRelays = await Promise.all(exchangePorts.map((p) => startTcpRelay([p])))
    closers.push(() => Promise.all(feedRelays.map((r) => r.close())).then(() => undefined))
    const brokerPorts = await Promise.all(Array.from({ length: nodes }, () => freePort()))
    const idpPort = await freePort()
    const idpUrl = `http://127.0.0.1:${idpPort}`

    const idp = createAppProcess(
      {
        name: 'idp',
        cwd: join(APPS, 'idp'),
        entry: 'src/main.ts',
        readyMsg: 'idp ready',
        logFile: join(logs, 'idp.log'),
        env: {
          ...shared,
          MQTT_OIDC_IDP_ISSUER: idpUrl,
          MQTT_OIDC_IDP_PORT: String(idpPort),
          MQTT_OIDC_IDP_EXCHANGE_URL: exchangeUrl,
          MQTT_OIDC_IDP_ID_TOKEN_TTL: `${options.idTokenTtlS}s`,
          MQTT_OIDC_IDP_DEMO_ACCOUNT: 'false',
        },
      },
      monitor,
    )
    closers.push(() => idp.stop())
    await idp.start()

    const exchanges = exchangePorts.map((port, i) =>
      createAppProcess(
        {
          name: nodes > 1 ? `exchange-${i + 1}` : 'exchange',
          cwd: join(APPS, 'exchange'),
          entry: 'src/main.ts',
          readyMsg: 'exchange ready',
          logFile: join(logs, `exchange-${i + 1}.log`),
          env: {
            ...shared,
            MQTT_OIDC_EXCHANGE_ISSUER: exchangeUrl,
            MQTT_OIDC_EXCHANGE_PORT: String(port),
            MQTT_OIDC_EXCHANGE_IDP_ISSUER: idpUrl,
            MQTT_OIDC_EXCHANGE_BOOTSTRAP_BROKERS: `${BROKER_ID}=mqtt://127.0.0.1:${brokerPorts[0]}`,
          },
        },
        monitor,
      ),
    )
    closers.push(() => Promise.all(exchanges.map((e) => e.stop())).then(() => undefined))
    await Promise.all(exchanges.map((e) => e.start()))

    const brokers = brokerPorts.map((port, i) =>
      createAppProcess(
        {
          name: nodes > 1 ? `broker-${i + 1}` : 'broker',
          cwd: join(APPS, 'broker'),
          entry: 'src/main.ts',
          readyMsg: 'broker listening',
          logFile: join(logs, `broker-${i + 1}.log`),
          // the data dir, as in the embedded stack and compose: the exchange writes the broker's
          // revocation-feed credential there when it creates the bootstrap broker
          env: {
            MQTT_OIDC_DATA_DIR: dataDir,
            MQTT_OIDC_BROKER_ID: BROKER_ID,
            MQTT_OIDC_BROKER_EXCHANGE_URL: feedRelays[i]!.url,
            MQTT_OIDC_BROKER_ISSUER: exchangeUrl,
            MQTT_OIDC_BROKER_MQTT_PORT: String(port),
            MQTT_OIDC_BROKER_WS_PORT: '0',
            ...(redis ? { MQTT_OIDC_BROKER_REDIS_URL: redis.url } : {}),
          },
        },
        monitor,
      ),
    )
    closers.push(() => Promise.all(brokers.map((b) => b.stop())).then(() => undefined))
    await Promise.all(brokers.map((b) => b.start()))

    return {
      store: options.store,
      dataDir,
      storeUrl,
      idpUrl,
      exchangeUrl,
      idp,
      exchanges,
      brokers,
      brokerUrls: brokerPorts.map((p) => `mqtt://127.0.0.1:${p}`),
      feedRelays,
      postgres,
      redis,
      apps: [idp, ...exchanges, ...brokers],
      close,
    }
  } catch (err) {
    await close()
    throw err
  }
}
