import { resolve } from 'node:path'
import { z } from 'zod'
import { NO_EXPIRATION, parseDuration, readEnvironment } from '@mqtt-oidc/core'

/** Env vars of this app start with this prefix; an unknown one is an error. */
export const ENV_PREFIX = 'MQTT_OIDC_IDP_'

const url = z.string().refine((v) => URL.canParse(v) && /^https?:$/.test(new URL(v).protocol), 'must be an http(s) URL')

const duration = z.string().transform((value, zctx) => {
  try {
    const seconds = parseDuration(value)
    if (seconds !== NO_EXPIRATION) return seconds
    zctx.addIssue({ code: 'custom', message: 'must be a duration such as 1h (-1 is not allowed here)' })
  } catch (err) {
    zctx.addIssue({ code: 'custom', message: (err as Error).message })
  }
  return z.NEVER
})

/** A PostgreSQL connection URL; SQLite needs no URL (it is the default). */
const storeUrl = z.string().refine((v) => /^postgres(ql)?:\/\/./.test(v) && URL.canParse(v), 'must be a postgres:// URL (unset: the embedded SQLite store)')

const flag = z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1')

const envSchema = z.object({
  /** Data directory (shared by all apps); holds idp.sqlite, admin-client.json, console-client.json, demo-account.json, idp-cookie-keys.json. Default ./.data. */
  MQTT_OIDC_DATA_DIR: z.string().min(1).default('./.data'),
  /** Shared store (all apps): a postgres:// URL, so several instances share state. Default unset: <dataDir>/idp.sqlite. */
  MQTT_OIDC_STORE: storeUrl.optional(),
  /** Public issuer URL of the IdP. Default http://localhost:4000. */
  MQTT_OIDC_IDP_ISSUER: url.default('http://localhost:4000'),
  /** Listen address. Default 127.0.0.1 (loopback only). */
  MQTT_OIDC_IDP_HOST: z.string().min(1).default('127.0.0.1'),
  /** Listen port. Default 4000. */
  MQTT_OIDC_IDP_PORT: z.coerce.number().int().min(0).max(65535).default(4000),
  /** The exchange URL: resource indicator and `aud` of admin access tokens. Default http://localhost:4001. */
  MQTT_OIDC_IDP_EXCHANGE_URL: url.default('http://localhost:4001'),
  /** Seconds between device-flow polls (`interval`). Default 5. */
  MQTT_OIDC_IDP_DEVICE_POLL_INTERVAL: z.coerce.number().int().min(1).max(60).default(5),
  /** ID token lifetime (duration: 30s, 15m, 1h, ...). Default 1h. */
  MQTT_OIDC_IDP_ID_TOKEN_TTL: duration.default(3600),
  /** Create the `demo` account on first start (development only). Default true; refused with NODE_ENV=production. */
  MQTT_OIDC_IDP_DEMO_ACCOUNT: flag.optional(),
  /**
   * Reverse proxies (load balancers, TLS offloaders) in front of the IdP, 0-10:
   * the client address for rate limits is the one the outermost of them saw
   * (X-Forwarded-For), and X-Forwarded-Proto: https makes cookies Secure. Default 0.
   */
  MQTT_OIDC_IDP_TRUSTED_PROXIES: z.coerce.number().int().min(0).max(10).default(0),
  /**
   * RFC 7591 dynamic client registration at /reg, each registration with an initial access token
   * made by an admin (`mqtt-oidc clients registration-token`). Default false.
   */
  MQTT_OIDC_IDP_DYNAMIC_REGISTRATION: flag.default(false),
  /** Accounts in this group may use the exchange's console (only they get the admin scope through it). Default mqtt-oidc-admins. */
  MQTT_OIDC_IDP_ADMIN_GROUP: z.string().trim().min(1).max(256).default('mqtt-oidc-admins'),
  /** Documentation URL the IdP's root page (`/`) links to. Default: none (no link). */
  MQTT_OIDC_IDP_DOCS_URL: url.optional(),
  /** pino level. Default info. */
  MQTT_OIDC_IDP_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
})

export interface IdpConfig {
  readonly dataDir: string
  /** postgres:// URL of the shared store; undefined = `<dataDir>/idp.sqlite`. */
  readonly store: string | undefined
  readonly issuer: string
  readonly host: string
  readonly port: number
  readonly exchangeUrl: string
  /** Seconds. */
  readonly devicePollInterval: number
  /** Seconds. */
  readonly idTokenTtl: number
  readonly demoAccount: boolean
  /** Reverse proxies in front (IdpOptions.trustedProxies). */
  readonly trustedProxies: number
  /** RFC 7591 registration with initial access tokens (IdpOptions.dynamicRegistration). */
  readonly dynamicRegistration: boolean
  /** Members may use the console (IdpOptions.adminGroup). */
  readonly adminGroup: string
  /** Linked from the root page (IdpOptions.docsUrl). */
  readonly docsUrl: string | undefined
  readonly logLevel: string
  /** One line saying what is only safe for development, if anything. */
  readonly devWarning: string | undefined
}

/** Configuration problems, every one listed. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid idp configuration:\n  - ${problems.join('\n  - ')}`)
    this.name = 'ConfigError'
  }
}

/**
 * Reads the IdP's configuration from the environment (the only place that
 * does); throws `ConfigError` listing every problem at once.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): IdpConfig {
  const { data, problems } = readEnvironment(envSchema, ENV_PREFIX, env)
  if (data === undefined) throw new ConfigError(problems)

  const c = data
  const production = env.NODE_ENV === 'production'
  const insecure = [c.MQTT_OIDC_IDP_ISSUER, c.MQTT_OIDC_IDP_EXCHANGE_URL].filter((u) => u.startsWith('http:'))
  const demoAccount = c.MQTT_OIDC_IDP_DEMO_ACCOUNT ?? !production
  if (production) {
    const refused: string[] = []
    if (insecure.length > 0) refused.push(`plain HTTP URLs are refused when NODE_ENV=production: ${insecure.join(', ')}`)
    if (demoAccount) refused.push('MQTT_OIDC_IDP_DEMO_ACCOUNT: the demo account is refused when NODE_ENV=production')
    if (refused.length > 0) throw new ConfigError(refused)
  }
  const devOnly = [
    ...(insecure.length > 0 ? [`plain HTTP (${insecure.join(', ')})`] : []),
    ...(demoAccount ? ['a demo account with a stored password'] : []),
  ]
  return {
    dataDir: resolve(c.MQTT_OIDC_DATA_DIR),
    store: c.MQTT_OIDC_STORE,
    issuer: c.MQTT_OIDC_IDP_ISSUER.replace(/\/+$/, ''),
    host: c.MQTT_OIDC_IDP_HOST,
    port: c.MQTT_OIDC_IDP_PORT,
    exchangeUrl: c.MQTT_OIDC_IDP_EXCHANGE_URL.replace(/\/+$/, ''),
    devicePollInterval: c.MQTT_OIDC_IDP_DEVICE_POLL_INTERVAL,
    idTokenTtl: c.MQTT_OIDC_IDP_ID_TOKEN_TTL,
    demoAccount,
    trustedProxies: c.MQTT_OIDC_IDP_TRUSTED_PROXIES,
    dynamicRegistration: c.MQTT_OIDC_IDP_DYNAMIC_REGISTRATION,
    adminGroup: c.MQTT_OIDC_IDP_ADMIN_GROUP,
    docsUrl: c.MQTT_OIDC_IDP_DOCS_URL,
    logLevel: c.MQTT_OIDC_IDP_LOG_LEVEL,
    devWarning: devOnly.length > 0 ? `development only: ${devOnly.join(' and ')}; not for production` : undefined,
  }
}
