import { createServer as createHttpServer } from 'node:http'
import type { Server as HttpServer } from 'node:http'
import { createServer as createNetServer } from 'node:net'
import type { AddressInfo, Server as NetServer } from 'node:net'
import { Aedes } from 'aedes'
import { pino } from 'pino'
import type { Logger } from 'pino'
import { createWebSocketStream, WebSocketServer } from 'ws'
import { attachAedesAuth, createRevocationFollower, createVerifier } from '@mqtt-oidc/broker-auth'
import type { AedesAuth, LogFn, RevocationFollower } from '@mqtt-oidc/broker-auth'

export interface BrokerOptions {
  /** This broker's id: the `aud` its tokens carry. Required. */
  brokerId: string
  /** The exchange's base URL (JWKS and revocation feed). Required. */
  exchangeUrl: string
  /** Expected token `iss`. Default: `exchangeUrl`. */
  issuer?: string
  /** JWKS URL. Default: `{exchangeUrl}/.well-known/jwks.json`. */
  jwksUri?: string
  /** Interface to listen on. Default `127.0.0.1`. */
  host?: string
  /** MQTT over TCP port; 0 = any free port. Default 1883. */
  mqttPort?: number
  /** MQTT over WebSocket port (path `/mqtt`); 0 = any free port. Default 8083. */
  wsPort?: number
  /** Logger. Default: a pino logger at `logLevel`. */
  logger?: Logger
  /** Level of the default logger. Default `info`. */
  logLevel?: string
  /** Leeway for token `exp`/`nbf`, in seconds. Default 5. */
  clockTolerance?: number
}

export interface BrokerAddresses {
  readonly mqttUrl: string
  readonly wsUrl: string
  readonly mqttPort: number
  readonly wsPort: number
}

export interface Broker {
  /** Loads the revocation snapshot, then opens the MQTT (TCP and WebSocket) listeners. */
  listen(): Promise<BrokerAddresses>
  /** Closes listeners, live sessions and the revocation feed. */
  close(): Promise<void>
  /** The revocation follower once `listen()` started (for health and metrics). */
  readonly follower: RevocationFollower | undefined
}

/** Paths redacted by the default logger, in case a field ever carries a secret. */
export const LOG_REDACT = ['password', 'token', 'authorization', '*.password', '*.token', '*.authorization', 'headers.authorization']

/**
 * The embedded aedes MQTT broker with broker-token auth.
 *
 * @example
 * const broker = createBroker({ brokerId: 'demo', exchangeUrl: 'http://localhost:4001' })
 * const { mqttUrl } = await broker.listen()
 */
export function createBroker(options: BrokerOptions): Broker {
  const logger = options.logger ?? pino({ level: options.logLevel ?? 'info', redact: LOG_REDACT, base: { app: 'broker' } })
  const log: LogFn = (level, msg, fields) => logger[level]({ broker: options.brokerId, ...fields }, msg)
  const host = options.host ?? '127.0.0.1'
  let follower: RevocationFollower | undefined
  let aedes: Aedes | undefined
  let auth: AedesAuth | undefined
  let tcp: NetServer | undefined
  let http: HttpServer | undefined
  let wss: WebSocketServer | undefined

  async function listen(): Promise<BrokerAddresses> {
    if (follower) throw new Error('broker already listening')
    follower = createRevocationFollower({ feedUrl: options.exchangeUrl, broker: options.brokerId, log })
    const verifier = createVerifier({
      issuer: options.issuer ?? options.exchangeUrl.replace(/\/+$/, ''),
      audience: options.brokerId,
      jwksUri: options.jwksUri ?? new URL('.well-known/jwks.json', options.exchangeUrl.replace(/\/*$/, '/')).href,
      clockTolerance: options.clockTolerance,
      revocations: follower,
      log,
    })
    // no CONNECT before the full revocation list is known
    await follower.ready()
    const broker = await Aedes.createBroker({ id: `mqtt-oidc-${options.brokerId}` })
    aedes = broker
    auth = attachAedesAuth(broker, { verifier, follower, log })
    broker.on('clientError', (client, err) => log('debug', 'client error', { client_id: client.id, err: err.message }))

    tcp = createNetServer((socket) => broker.handle(socket))
    const mqttPort = await bind(tcp, options.mqttPort ?? 1883, host)
    http = createHttpServer((_req, res) => res.writeHead(426, { 'content-type': 'text/plain' }).end('MQTT over WebSocket at /mqtt\n'))
    wss = new WebSocketServer({ server: http, path: '/mqtt' })
    wss.on('connection', (ws, req) => broker.handle(createWebSocketStream(ws), req))
    const wsPort = await bind(http, options.wsPort ?? 8083, host)

    const shown = host.includes(':') ? `[${host}]` : host
    const addresses = { mqttUrl: `mqtt://${shown}:${mqttPort}`, wsUrl: `ws://${shown}:${wsPort}/mqtt`, mqttPort, wsPort }
    logger.info({ broker: options.brokerId, ...addresses }, 'broker listening')
    return addresses
  }

  async function close(): Promise<void> {
    const closing: Promise<unknown>[] = []
    if (tcp) closing.push(new Promise((resolve) => tcp?.close(resolve)))
    if (wss) closing.push(new Promise((resolve) => wss?.close(resolve)))
    if (aedes) {
      const a = aedes
      closing.push(new Promise<void>((resolve) => a.close(() => resolve())))
    }
    if (http) {
      const h = http
      closing.push(new Promise((resolve) => h.close(resolve)))
      h.closeAllConnections()
    }
    auth?.close()
    closing.push(follower?.close() ?? Promise.resolve())
    await Promise.all(closing)
    tcp = http = wss = aedes = auth = undefined
    logger.info({ broker: options.brokerId }, 'broker closed')
  }

  return {
    listen,
    close,
    get follower() {
      return follower
    },
  }
}

function bind(server: NetServer | HttpServer, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error): void => reject(err)
    server.once('error', onError)
    server.listen(port, host, () => {
      server.off('error', onError)
      resolve((server.address() as AddressInfo).port)
    })
  })
}
