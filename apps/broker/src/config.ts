import { z } from 'zod'
import { brokerIdSchema } from '@mqtt-oidc/core'

const PREFIX = 'MQTT_OIDC_BROKER_'

const port = z.coerce.number().int().min(0).max(65535)
const httpUrl = z.url({ protocol: /^https?$/ }).transform((u) => u.replace(/\/+$/, ''))

/** Every `MQTT_OIDC_BROKER_*` variable, with its unit and default. */
const schema = z.object({
  /** Broker id, the `aud` of its tokens. Default `demo`. */
  MQTT_OIDC_BROKER_ID: brokerIdSchema.default('demo'),
  /** Exchange base URL (JWKS + revocation feed). Default `http://localhost:4001`. */
  MQTT_OIDC_BROKER_EXCHANGE_URL: httpUrl.default('http://localhost:4001'),
  /** Expected token issuer. Default: the exchange URL. */
  MQTT_OIDC_BROKER_ISSUER: z.string().min(1).optional(),
  /** JWKS URL. Default: `{exchange}/.well-known/jwks.json`. */
  MQTT_OIDC_BROKER_JWKS_URL: httpUrl.optional(),
  /** Interface to listen on. Default `127.0.0.1` (loopback only). */
  MQTT_OIDC_BROKER_HOST: z.string().min(1).default('127.0.0.1'),
  /** MQTT over TCP port. Default 1883. */
  MQTT_OIDC_BROKER_MQTT_PORT: port.default(1883),
  /** MQTT over WebSocket port (path /mqtt). Default 8083. */
  MQTT_OIDC_BROKER_WS_PORT: port.default(8083),
  /** Token exp/nbf leeway, in seconds. Default 5. */
  MQTT_OIDC_BROKER_CLOCK_TOLERANCE: z.coerce.number().int().min(0).max(300).default(5),
  /** pino level. Default `info`. */
  MQTT_OIDC_BROKER_LOG_LEVEL: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
}).strict()

export interface BrokerConfig {
  readonly brokerId: string
  readonly exchangeUrl: string
  readonly issuer: string
  readonly jwksUri: string | undefined
  readonly host: string
  readonly mqttPort: number
  readonly wsPort: number
  readonly clockTolerance: number
  readonly logLevel: string
  /** Development-only settings in use (say so once, at start). */
  readonly warnings: readonly string[]
}

/** The configuration is invalid; `problems` lists every problem at once. */
export class BrokerConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`invalid broker configuration:\n  - ${problems.join('\n  - ')}`)
    this.name = 'BrokerConfigError'
  }
}

/**
 * Reads the broker's configuration from `MQTT_OIDC_BROKER_*` variables;
 * an unknown variable with that prefix is an error. Plain-HTTP exchange
 * URLs are refused when `NODE_ENV=production`.
 */
export function loadBrokerConfig(env: NodeJS.ProcessEnv = process.env): BrokerConfig {
  const own = Object.fromEntries(Object.entries(env).filter(([key]) => key.startsWith(PREFIX)))
  const parsed = schema.safeParse(own)
  if (!parsed.success) {
    throw new BrokerConfigError(parsed.error.issues.map((issue) => issue.code === 'unrecognized_keys'
      ? `unknown variable${issue.keys.length > 1 ? 's' : ''} ${issue.keys.join(', ')}`
      : `${issue.path.join('.')}: ${issue.message}`))
  }
  const c = parsed.data
  const plainHttp = [c.MQTT_OIDC_BROKER_EXCHANGE_URL, c.MQTT_OIDC_BROKER_JWKS_URL]
    .filter((u): u is string => u !== undefined && u.startsWith('http:'))
  const warnings = plainHttp.length > 0
    ? [`plain HTTP for keys and revocations (${plainHttp.join(', ')}): development only`]
    : []
  if (plainHttp.length > 0 && env.NODE_ENV === 'production') {
    throw new BrokerConfigError([`NODE_ENV=production refuses plain HTTP URLs: ${plainHttp.join(', ')}`])
  }
  return {
    brokerId: c.MQTT_OIDC_BROKER_ID,
    exchangeUrl: c.MQTT_OIDC_BROKER_EXCHANGE_URL,
    issuer: c.MQTT_OIDC_BROKER_ISSUER ?? c.MQTT_OIDC_BROKER_EXCHANGE_URL,
    jwksUri: c.MQTT_OIDC_BROKER_JWKS_URL,
    host: c.MQTT_OIDC_BROKER_HOST,
    mqttPort: c.MQTT_OIDC_BROKER_MQTT_PORT,
    wsPort: c.MQTT_OIDC_BROKER_WS_PORT,
    clockTolerance: c.MQTT_OIDC_BROKER_CLOCK_TOLERANCE,
    logLevel: c.MQTT_OIDC_BROKER_LOG_LEVEL,
    warnings,
  }
}
