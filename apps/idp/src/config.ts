import { resolve } from 'node:path'
import { z } from 'zod'
import { ConfigError, envSchemas, readEnvironment, stackPorts, stackUrls } from '@mqtt-oidc/core'

/** Env vars of this app start with this prefix; an unknown one is an error. */
export const ENV_PREFIX = 'MQTT_OIDC_IDP_'

const { duration, flag, httpUrl: url, logLevel, port, portBase, storeUrl, wholeNumber } = envSchemas

const envSchema = z.object({
  /** Data directory (shared by all apps); holds idp.sqlite, admin-client.json, console-client.json, demo-account.json, idp-cookie-keys.json. Default ./.data. */
  MQTT_OIDC_DATA_DIR: z.string().min(1).default('./.data'),
  /** Shared store (all apps): a postgres:// URL, so several instances share state. Default unset: <dataDir>/idp.sqlite. */
  MQTT_OIDC_STORE: storeUrl().optional(),
  /** Moves the whole embedded stack: the IdP listens on this port, the other parts on the next ones (stack-ports.ts in core). Default: none (4000, 4001, 1883, 8083). */
  MQTT_OIDC_PORT_BASE: portBase().optional(),
  /** Public issuer URL of the IdP. Default http://localhost:4000 (with MQTT_OIDC_PORT_BASE: that port). */
  MQTT_OIDC_IDP_ISSUER: url().optional(),
  /** Listen address. Default 127.0.0.1 (loopback only). */
  MQTT_OIDC_IDP_HOST: z.string().min(1).default('127.0.0.1'),
  /** Listen port. Default 4000 (with MQTT_OIDC_PORT_BASE: the base). */
  MQTT_OIDC_IDP_PORT: port().optional(),
  /** Port of the metrics and health listener (GET /metrics, /healthz, /readyz), on MQTT_OIDC_IDP_HOST. Default: none (/healthz and /readyz stay on the main port). */
  MQTT_OIDC_IDP_METRICS_PORT: port().optional(),
  /** The exchange URL: resource indicator and `aud` of admin access tokens. Default http://localhost:4001 (with MQTT_OIDC_PORT_BASE: base + 1). */
  MQTT_OIDC_IDP_EXCHANGE_URL: url().optional(),
  /** Seconds between device-flow polls (`interval`). Default 5. */
  MQTT_OIDC_IDP_DEVICE_POLL_INTERVAL: wholeNumber(1, 60).default(5),
  /** ID token lifetime (duration: 30s, 15m, 1h, ...). Default 1h. */
  MQTT_OIDC_IDP_ID_TOKEN_TTL: duration().default(3600),
  /** Create the `demo` account on first start (development only). Default true; refused with NODE_ENV=production. */
  MQTT_OIDC_IDP_DEMO_ACCOUNT: flag().optional(),
  /**
   * Reverse proxies (load balancers, TLS offloaders) in front of the IdP, 0-10:
   * the client address for rate limits is the one the outermost of them saw
   * (X-Forwarded-For), and X-Forwarded-Proto: https makes cookies Secure. Default 0.
   */
  MQTT_OIDC_IDP_TRUSTED_PROXIES: wholeNumber(0, 10).default(0),
  /**
   * RFC 7591 dynamic client registration at /reg, each registration with an initial access token
   * made by an admin (`mqtt-oidc clients registration-token`). Default false.
   */
  MQTT_OIDC_IDP_DYNAMIC_REGISTRATION: flag().default(false),
  /** Accounts in this group may use the exchange's console (only they get the admin scope through it). Default mqtt-oidc-admins. */
  MQTT_OIDC_IDP_ADMIN_GROUP: z.string().trim().min(1).max(256).default('mqtt-oidc-admins'),
  /** Documentation URL the IdP's root page (`/`) links to. Default: none (no link). */
  MQTT_OIDC_IDP_DOCS_URL: url().optional(),
  /** pino level. Default info. */
  MQTT_OIDC_IDP_LOG_LEVEL: logLevel().default('info'),
})

export interface IdpConfig {
  readonly dataDir: string
  /** postgres:// URL of the shared store; undefined = `<dataDir>/idp.sqlite`. */
  readonly store: string | undefined
  readonly issuer: string
  readonly host: string
  readonly port: number
  /** The metrics and health listener's port; undefined = none. */
  readonly metricsPort: number | undefined
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

/**
 * Reads the IdP's configuration from the environment (the only place that
 * does); throws `ConfigError` listing every problem at once.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): IdpConfig {
  const { data, problems } = readEnvironment(envSchema, ENV_PREFIX, env)
  if (data === undefined) throw new ConfigError('idp', problems)

  const c = data
  const ports = stackPorts(c.MQTT_OIDC_PORT_BASE)
  const urls = stackUrls(ports)
  const issuer = c.MQTT_OIDC_IDP_ISSUER ?? urls.idp
  const exchangeUrl = c.MQTT_OIDC_IDP_EXCHANGE_URL ?? urls.exchange
  const production = env.NODE_ENV === 'production'
  const insecure = [issuer, exchangeUrl].filter((u) => u.startsWith('http:'))
  const demoAccount = c.MQTT_OIDC_IDP_DEMO_ACCOUNT ?? !production
  if (production) {
    const refused: string[] = []
    if (insecure.length > 0) refused.push(`plain HTTP URLs are refused when NODE_ENV=production: ${insecure.join(', ')}`)
    if (demoAccount) refused.push('MQTT_OIDC_IDP_DEMO_ACCOUNT: the demo account is refused when NODE_ENV=production')
    if (refused.length > 0) throw new ConfigError('idp', refused)
  }
  const devOnly = [
    ...(insecure.length > 0 ? [`plain HTTP (${insecure.join(', ')})`] : []),
    ...(demoAccount ? ['a demo account with a stored password'] : []),
  ]
  return {
    dataDir: resolve(c.MQTT_OIDC_DATA_DIR),
    store: c.MQTT_OIDC_STORE,
    issuer: issuer.replace(/\/+$/, ''),
    host: c.MQTT_OIDC_IDP_HOST,
    port: c.MQTT_OIDC_IDP_PORT ?? ports.idp,
    metricsPort: c.MQTT_OIDC_IDP_METRICS_PORT,
    exchangeUrl: exchangeUrl.replace(/\/+$/, ''),
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
