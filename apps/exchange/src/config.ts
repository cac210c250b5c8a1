import { join, resolve } from 'node:path'
import { z } from 'zod'
import { ConfigError, brokerIdSchema, envSchemas, gotValue, parseDuration, readEnvironment, stackPorts, stackUrls } from '@mqtt-oidc/core'
import { DEFAULT_ADMIN_ISSUE_RATE_LIMIT, DEFAULT_MAX_LIVE_ADMIN_CREDENTIALS, DEFAULT_SUBJECT_RATE_LIMIT } from './create-exchange.js'
import { DEFAULT_KEY_LEAD_SECONDS } from '@mqtt-oidc/jose'
import type { ExchangeOptions } from './create-exchange.js'
import type { RateLimit } from '@mqtt-oidc/core'
import { claimReader } from './lib/trusted-issuers.js'
import { readConsoleClient } from './console/read-console-client.js'

/** Env vars of this app start with this prefix; an unknown one is an error. */
export const ENV_PREFIX = 'MQTT_OIDC_EXCHANGE_'

const { duration, flag, httpUrl, logLevel, port, portBase, storeUrl, wholeNumber } = envSchemas

const RATE_LIMIT_MESSAGE = 'must be <requests>/<window> such as 20/1m (requests 1 or more, window 1s..1d), or none'

/** `<requests>/<window>` (`20/1m`, `100/3600`) or `none`. */
const rateLimit = z.string().transform((value, zctx): RateLimit | null => {
  if (value.trim() === 'none') return null
  const m = /^\s*(\d{1,9})\s*\/\s*(\S+)\s*$/.exec(value)
  let windowSeconds = NaN
  try {
    if (m) windowSeconds = parseDuration(m[2]!)
  } catch {
    // reported below
  }
  const requests = Number(m?.[1])
  if (requests >= 1 && windowSeconds >= 1 && windowSeconds <= 86400) return { requests, windowSeconds }
  zctx.addIssue({ code: 'custom', message: `${RATE_LIMIT_MESSAGE}${gotValue(value)}` })
  return z.NEVER
})

/** A positive count or `none`. */
const countOrNone = z.string().transform((value, zctx): number | null => {
  if (value.trim() === 'none') return null
  if (/^\s*\d{1,9}\s*$/.test(value) && Number(value) >= 1) return Number(value)
  zctx.addIssue({ code: 'custom', message: `must be a whole number of credentials (1 or more), or none${gotValue(value)}` })
  return z.NEVER
})

const url = httpUrl()

/** A claim name, or an RFC 6901 JSON pointer (starts with "/") into nested claims. */
const claimReference = z.string().min(1).refine((ref) => {
  try {
    claimReader(ref)
    return true
  } catch {
    return false
  }
}, 'a claim name, or a JSON pointer (RFC 6901) such as /realm_access/roles')

const trustedIssuerSchema = z.object({
  issuer: url,
  jwksUri: url.optional(),
  clientIds: z.array(z.string().min(1)).min(1),
  clientIdClaim: claimReference.optional(),
  clientIdPrefix: z.string().max(64).regex(/^[^\s/+#]*$/, 'must not contain spaces, "/", "+" or "#" (it becomes part of an MQTT client id)').optional(),
  usernameClaim: z.union([claimReference, z.array(claimReference).min(1)]).optional(),
  groupsClaim: claimReference.optional(),
}).strict()

const trustedIssuers = z.string().transform((value, zctx) => {
  let json: unknown
  try {
    json = JSON.parse(value)
  } catch {
    zctx.addIssue({ code: 'custom', message: 'must be a JSON array of {issuer, clientIds, jwksUri?, clientIdClaim?, clientIdPrefix?, usernameClaim?, groupsClaim?}' })
    return z.NEVER
  }
  const parsed = z.array(trustedIssuerSchema).safeParse(json)
  if (parsed.success) return parsed.data
  for (const i of parsed.error.issues) zctx.addIssue({ code: 'custom', message: `[${i.path.join('.')}] ${i.message}` })
  return z.NEVER
})

const envSchema = z.object({
  /** Data directory (shared by all apps); holds exchange.sqlite, and the IdP's idp.sqlite the exchange reads (accounts' client ids, disables) when there is no MQTT_OIDC_STORE. Default ./.data. */
  MQTT_OIDC_DATA_DIR: z.string().min(1).default('./.data'),
  /** Shared store (all apps): a postgres:// URL, so several instances share state. Default unset: <dataDir>/exchange.sqlite. */
  MQTT_OIDC_STORE: storeUrl().optional(),
  /** Moves the whole embedded stack: the IdP listens on this port, the exchange on the next, the broker after it (stack-ports.ts in core). Default: none (4000, 4001, 1883, 8083). */
  MQTT_OIDC_PORT_BASE: portBase().optional(),
  /** Public URL of the exchange: `iss` of broker tokens, `aud` of admin access tokens. Default http://localhost:4001 (with MQTT_OIDC_PORT_BASE: base + 1). */
  MQTT_OIDC_EXCHANGE_ISSUER: url.optional(),
  /** Listen address. Default 127.0.0.1 (loopback only). */
  MQTT_OIDC_EXCHANGE_HOST: z.string().min(1).default('127.0.0.1'),
  /** Listen port. Default 4001 (with MQTT_OIDC_PORT_BASE: base + 1). */
  MQTT_OIDC_EXCHANGE_PORT: port().optional(),
  /** Port of the metrics and health listener (GET /metrics, /healthz, /readyz), on MQTT_OIDC_EXCHANGE_HOST. Default: none (/healthz and /readyz stay on the main port). */
  MQTT_OIDC_EXCHANGE_METRICS_PORT: port().optional(),
  /** Issuer of the trusted IdP. Default http://localhost:4000 (with MQTT_OIDC_PORT_BASE: the base). */
  MQTT_OIDC_EXCHANGE_IDP_ISSUER: url.optional(),
  /** JWKS URL of the IdP. Default: from its discovery document. */
  MQTT_OIDC_EXCHANGE_IDP_JWKS_URI: url.optional(),
  /** Comma-separated client ids whose ID tokens may be exchanged. Default mqtt-oidc-cli. */
  MQTT_OIDC_EXCHANGE_IDP_CLIENT_IDS: z.string().default('mqtt-oidc-cli')
    .transform((v) => v.split(',').map((s) => s.trim()).filter(Boolean))
    .refine((list) => list.length > 0, 'must list at least one client id'),
  /**
   * More OIDC issuers whose ID tokens / JWT access tokens may be exchanged (your own identity provider): a JSON array of
   * {issuer, clientIds, jwksUri?, clientIdClaim? (default clientid; `sub` derives the MQTT client id from the subject),
   * clientIdPrefix? (default ''), usernameClaim? (default username; a list means the first the token has, e.g.
   * ["preferred_username","email"]), groupsClaim? (default groups)}. A claim is named at the top level of the token or by an
   * RFC 6901 JSON pointer into nested claims (/realm_access/roles). Default [].
   */
  MQTT_OIDC_EXCHANGE_TRUSTED_ISSUERS: trustedIssuers.default([]),
  /** Oldest subject token accepted, by its iat (duration). Default 1d. */
  MQTT_OIDC_EXCHANGE_MAX_SUBJECT_TOKEN_AGE: duration().default(86400),
  /** How long a key made by `keys rotate` is in the JWKS before it signs (duration). Default 10m. */
  MQTT_OIDC_EXCHANGE_KEY_LEAD_TIME: duration().default(DEFAULT_KEY_LEAD_SECONDS),
  /** Longest lifetime of an exchanged token (duration: 30s, 15m, 1h, ...). Default 1h. */
  MQTT_OIDC_EXCHANGE_MAX_LIFETIME: duration().default(3600),
  /** Lifetime of admin-issued credentials when neither the request nor the broker sets one (duration). Default 7d. */
  MQTT_OIDC_EXCHANGE_DEFAULT_CREDENTIAL_LIFETIME: duration().default(604800),
  /** URL of the `demo` broker created on first start. Default mqtt://localhost:1883 (with MQTT_OIDC_PORT_BASE: base + 2). */
  MQTT_OIDC_EXCHANGE_DEMO_BROKER_URL: z.string().min(1).optional(),
  /**
   * More brokers to create on start when missing, `id=url` pairs separated by
   * commas (e.g. `emqx=mqtt://localhost:1884`), for brokers whose auth hook
   * must find its broker from the first start. Default: none.
   */
  MQTT_OIDC_EXCHANGE_BOOTSTRAP_BROKERS: z.string().default('').transform((value, zctx) => {
    const pairs = value.split(',').map((s) => s.trim()).filter(Boolean).map((pair) => {
      const eq = pair.indexOf('=')
      const id = eq > 0 ? pair.slice(0, eq) : ''
      if (!brokerIdSchema.safeParse(id).success || eq === pair.length - 1) {
        zctx.addIssue({ code: 'custom', message: `"${pair}" is not id=url with a broker id of lowercase letters, digits and dashes` })
      }
      return { id, url: pair.slice(eq + 1) }
    })
    return pairs
  }),
  /**
   * Token exchanges per subject (one sign-in: issuer, sub and client id claim) per window, besides any
   * broker policy's limit; `none` turns it off. Counted per instance. Default 20/1m.
   */
  MQTT_OIDC_EXCHANGE_SUBJECT_RATE_LIMIT: rateLimit.optional(),
  /** Credentials one admin may issue per window (a batch of 100 counts 100); `none` turns it off. Counted per instance. Default 1000/1m. */
  MQTT_OIDC_EXCHANGE_ADMIN_ISSUE_RATE_LIMIT: rateLimit.optional(),
  /** Most live (unexpired, unrevoked) admin-issued credentials per broker; `none` for no cap. Default 100000. */
  MQTT_OIDC_EXCHANGE_MAX_LIVE_ADMIN_CREDENTIALS: countOrNone.optional(),
  /**
   * Where the exchange writes the revocation-feed credential (mode 0600) of each broker it creates on
   * start (`demo` and MQTT_OIDC_EXCHANGE_BOOTSTRAP_BROKERS), for brokers sharing its data directory; other
   * brokers get theirs from `mqtt-oidc broker feed-credential <id>`. Default `<data dir>/feed-credentials`.
   */
  MQTT_OIDC_EXCHANGE_FEED_CREDENTIAL_DIR: z.string().min(1).optional(),
  /** Revocation streams one instance holds open in all; more are refused with 503 (the broker polls meanwhile). Default 10000. */
  MQTT_OIDC_EXCHANGE_FEED_MAX_STREAMS: wholeNumber(1, 1_000_000).default(10_000),
  /** Revocation streams one broker may hold open (one per broker node, plus EMQX hooks); more get 429. Default 16. */
  MQTT_OIDC_EXCHANGE_FEED_MAX_STREAMS_PER_BROKER: wholeNumber(1, 10_000).default(16),
  /** Serve the web console at /console (for accounts in the IdP's admin group): true or false. Default true. */
  MQTT_OIDC_EXCHANGE_CONSOLE: flag().default(true),
  /** The console's client credentials at the IdP, which writes them (mode 0600). Default `<data dir>/console-client.json`. */
  MQTT_OIDC_EXCHANGE_CONSOLE_CLIENT_FILE: z.string().min(1).optional(),
  /** A console session lasts at most this long (duration). Default 8h. */
  MQTT_OIDC_EXCHANGE_CONSOLE_SESSION_TTL: duration().default(8 * 3600),
  /** A console session unused this long ends (duration). Default 1h. */
  MQTT_OIDC_EXCHANGE_CONSOLE_IDLE_TIMEOUT: duration().default(3600),
  /**
   * Where the exchange sends its own requests to the IdP (the console's discovery, token and revocation
   * requests) when the IdP's issuer URL is not reachable from here, e.g. `http://idp:4000` on a compose
   * network. Default: the IdP issuer.
   */
  MQTT_OIDC_EXCHANGE_IDP_FETCH_FROM: httpUrl().optional(),
  /** How often a broker node reports its sessions when nothing changed (duration); one silent for three is taken for gone. Default 15s. */
  MQTT_OIDC_EXCHANGE_SESSION_HEARTBEAT: duration().default(15),
  /** Most broker nodes reporting sessions per broker. Default 64. */
  MQTT_OIDC_EXCHANGE_MAX_REPORTING_NODES: wholeNumber(1, 10_000).default(64),
  /** Most reported sessions kept per broker (what the console lists). Default 1000000. */
  MQTT_OIDC_EXCHANGE_MAX_REPORTED_SESSIONS: wholeNumber(1, 100_000_000).default(1_000_000),
  /** pino level. Default info. */
  MQTT_OIDC_EXCHANGE_LOG_LEVEL: logLevel().default('info'),
})

export interface ExchangeConfig {
  readonly dataDir: string
  /** postgres:// URL of the shared store; undefined = `<dataDir>/exchange.sqlite`. */
  readonly store: string | undefined
  readonly issuer: string
  readonly host: string
  readonly port: number
  /** The metrics and health listener's port; undefined = none. */
  readonly metricsPort: number | undefined
  readonly idp: { readonly issuer: string; readonly jwksUri: string | undefined; readonly clientIds: string[] }
  readonly trustedIssuers: z.output<typeof trustedIssuerSchema>[]
  /** Seconds. */
  readonly maxSubjectTokenAge: number
  /** Seconds. */
  readonly keyLeadTime: number
  /** Seconds. */
  readonly maxLifetime: number
  /** Seconds. */
  readonly defaultCredentialLifetime: number
  readonly demoBrokerUrl: string
  /** Brokers created on start when missing (besides `demo`). */
  readonly bootstrapBrokers: ReadonlyArray<{ readonly id: string; readonly url: string }>
  /** null = none. */
  readonly subjectRateLimit: RateLimit | null
  /** null = none. */
  readonly adminIssueRateLimit: RateLimit | null
  /** null = no cap. */
  readonly maxLiveAdminCredentials: number | null
  /** Absolute directory of the bootstrapped brokers' feed credential files. */
  readonly feedCredentialDir: string
  readonly maxFeedStreams: number
  readonly maxFeedStreamsPerBroker: number
  /** The web console; undefined = turned off. */
  readonly console: { readonly clientFile: string; readonly idpFetchFrom: string | undefined; readonly sessionSeconds: number; readonly idleSeconds: number } | undefined
  /** Seconds. */
  readonly sessionHeartbeatSeconds: number
  readonly maxReportingNodes: number
  readonly maxReportedSessions: number
  readonly logLevel: string
  /** One line saying what is only safe for development, if anything. */
  readonly devWarning: string | undefined
}

/** Reads the exchange's configuration from the environment; throws ConfigError listing every problem. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): ExchangeConfig {
  const { data, problems } = readEnvironment(envSchema, ENV_PREFIX, env)
  if (data === undefined) throw new ConfigError('exchange', problems)
  const c = data
  const ports = stackPorts(c.MQTT_OIDC_PORT_BASE)
  const urls = stackUrls(ports)
  const issuer = c.MQTT_OIDC_EXCHANGE_ISSUER ?? urls.exchange
  const idpIssuer = c.MQTT_OIDC_EXCHANGE_IDP_ISSUER ?? urls.idp
  const insecure = [issuer, idpIssuer, ...c.MQTT_OIDC_EXCHANGE_TRUSTED_ISSUERS.map((i) => i.issuer)].filter((u) => u.startsWith('http:'))
  if (insecure.length > 0 && env.NODE_ENV === 'production') {
    throw new ConfigError('exchange', [`plain HTTP issuers are refused when NODE_ENV=production: ${insecure.join(', ')}`])
  }
  return {
    dataDir: resolve(c.MQTT_OIDC_DATA_DIR),
    store: c.MQTT_OIDC_STORE,
    issuer: issuer.replace(/\/+$/, ''),
    host: c.MQTT_OIDC_EXCHANGE_HOST,
    port: c.MQTT_OIDC_EXCHANGE_PORT ?? ports.exchange,
    metricsPort: c.MQTT_OIDC_EXCHANGE_METRICS_PORT,
    idp: { issuer: idpIssuer, jwksUri: c.MQTT_OIDC_EXCHANGE_IDP_JWKS_URI, clientIds: c.MQTT_OIDC_EXCHANGE_IDP_CLIENT_IDS },
    trustedIssuers: c.MQTT_OIDC_EXCHANGE_TRUSTED_ISSUERS,
    maxSubjectTokenAge: c.MQTT_OIDC_EXCHANGE_MAX_SUBJECT_TOKEN_AGE,
    keyLeadTime: c.MQTT_OIDC_EXCHANGE_KEY_LEAD_TIME,
    maxLifetime: c.MQTT_OIDC_EXCHANGE_MAX_LIFETIME,
    defaultCredentialLifetime: c.MQTT_OIDC_EXCHANGE_DEFAULT_CREDENTIAL_LIFETIME,
    demoBrokerUrl: c.MQTT_OIDC_EXCHANGE_DEMO_BROKER_URL ?? urls.mqtt,
    bootstrapBrokers: c.MQTT_OIDC_EXCHANGE_BOOTSTRAP_BROKERS,
    subjectRateLimit: c.MQTT_OIDC_EXCHANGE_SUBJECT_RATE_LIMIT === undefined ? DEFAULT_SUBJECT_RATE_LIMIT : c.MQTT_OIDC_EXCHANGE_SUBJECT_RATE_LIMIT,
    adminIssueRateLimit: c.MQTT_OIDC_EXCHANGE_ADMIN_ISSUE_RATE_LIMIT === undefined ? DEFAULT_ADMIN_ISSUE_RATE_LIMIT : c.MQTT_OIDC_EXCHANGE_ADMIN_ISSUE_RATE_LIMIT,
    maxLiveAdminCredentials: c.MQTT_OIDC_EXCHANGE_MAX_LIVE_ADMIN_CREDENTIALS === undefined
      ? DEFAULT_MAX_LIVE_ADMIN_CREDENTIALS : c.MQTT_OIDC_EXCHANGE_MAX_LIVE_ADMIN_CREDENTIALS,
    feedCredentialDir: resolve(c.MQTT_OIDC_EXCHANGE_FEED_CREDENTIAL_DIR ?? join(c.MQTT_OIDC_DATA_DIR, 'feed-credentials')),
    maxFeedStreams: c.MQTT_OIDC_EXCHANGE_FEED_MAX_STREAMS,
    maxFeedStreamsPerBroker: c.MQTT_OIDC_EXCHANGE_FEED_MAX_STREAMS_PER_BROKER,
    console: c.MQTT_OIDC_EXCHANGE_CONSOLE
      ? {
        clientFile: resolve(c.MQTT_OIDC_EXCHANGE_CONSOLE_CLIENT_FILE ?? join(c.MQTT_OIDC_DATA_DIR, 'console-client.json')),
        idpFetchFrom: c.MQTT_OIDC_EXCHANGE_IDP_FETCH_FROM,
        sessionSeconds: c.MQTT_OIDC_EXCHANGE_CONSOLE_SESSION_TTL,
        idleSeconds: c.MQTT_OIDC_EXCHANGE_CONSOLE_IDLE_TIMEOUT,
      }
      : undefined,
    sessionHeartbeatSeconds: c.MQTT_OIDC_EXCHANGE_SESSION_HEARTBEAT,
    maxReportingNodes: c.MQTT_OIDC_EXCHANGE_MAX_REPORTING_NODES,
    maxReportedSessions: c.MQTT_OIDC_EXCHANGE_MAX_REPORTED_SESSIONS,
    logLevel: c.MQTT_OIDC_EXCHANGE_LOG_LEVEL,
    devWarning: insecure.length > 0 ? `development only: plain HTTP issuers (${insecure.join(', ')}); use https in production` : undefined,
  }
}

/**
 * The createExchange options that come from configuration, so every launcher
 * (main.ts, scripts/start-stack.ts) passes all of them.
 *
 * @example createExchange({ store, logger, ...exchangeOptionsFromConfig(loadConfig()) })
 */
export function exchangeOptionsFromConfig(config: ExchangeConfig) {
  return {
    issuer: config.issuer,
    host: config.host,
    port: config.port,
    metricsPort: config.metricsPort,
    idp: config.idp,
    trustedIssuers: config.trustedIssuers,
    maxSubjectTokenAge: config.maxSubjectTokenAge,
    keyLeadTime: config.keyLeadTime,
    maxLifetime: config.maxLifetime,
    defaultCredentialLifetime: config.defaultCredentialLifetime,
    subjectRateLimit: config.subjectRateLimit,
    adminIssueRateLimit: config.adminIssueRateLimit,
    maxLiveAdminCredentials: config.maxLiveAdminCredentials,
    maxFeedStreams: config.maxFeedStreams,
    maxFeedStreamsPerBroker: config.maxFeedStreamsPerBroker,
    console: config.console && {
      client: readConsoleClient(config.console.clientFile),
      idpFetchFrom: config.console.idpFetchFrom,
      sessionSeconds: config.console.sessionSeconds,
      idleSeconds: config.console.idleSeconds,
    },
    sessionHeartbeatSeconds: config.sessionHeartbeatSeconds,
    maxReportingNodes: config.maxReportingNodes,
    maxReportedSessions: config.maxReportedSessions,
  } satisfies Partial<ExchangeOptions>
}
