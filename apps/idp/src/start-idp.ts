import { mkdirSync } from 'node:fs'
import type { Logger } from 'pino'
import { explainListenError, type ServiceControl, type Store } from '@mqtt-oidc/core'
import { openStore, withStartupLock } from '@mqtt-oidc/store'
import type { IdpConfig } from './config.js'
import { createIdp, type Idp } from './create-idp.js'
import { ensureDemoAccount, type DemoAccount } from './ensure-demo-account.js'
import { loadOrCreateAdminClient } from './load-or-create-admin-client.js'
import { loadOrCreateConsoleClient } from './load-or-create-console-client.js'
import { loadOrCreateCookieKeys } from './load-or-create-cookie-keys.js'

export interface StartedIdp {
  readonly idp: Idp
  /** The IdP's store (accounts, sessions, keys); the exchange of the embedded stack reads its accounts there. */
  readonly store: Store
  /** Bound port. */
  readonly port: number
  /** The demo account, when the configuration asks for one. */
  readonly demo: DemoAccount | undefined
}

/**
 * Starts the IdP as `config` says, the one wiring both its own entry point
 * and the embedded stack use: opens its store (SQLite `<dataDir>/idp.sqlite`,
 * or the shared PostgreSQL), loads or creates the admin client and the
 * cookie keys in the data directory, makes sure of the demo account when
 * configured, and listens (under the startup lock, so instances starting
 * together on PostgreSQL create the signing keys once). What it opens is
 * handed to `service` to close on stop, the store last. A port in use fails
 * with a ListenError naming the variable that moves it.
 *
 * @example runService('idp', async (service) => { await startIdp(loadConfig(), { logger, service }) })
 */
export async function startIdp(config: IdpConfig, options: { readonly logger: Logger; readonly service: ServiceControl }): Promise<StartedIdp> {
  const { logger, service } = options
  mkdirSync(config.dataDir, { recursive: true, mode: 0o700 })
  const store = await openStore({ url: config.store, dataDir: config.dataDir, file: 'idp.sqlite' })
  service.onStop('idp store', () => store.close())
  const idp = createIdp({
    store,
    issuer: config.issuer,
    host: config.host,
    port: config.port,
    metricsPort: config.metricsPort,
    exchangeUrl: config.exchangeUrl,
    adminClient: loadOrCreateAdminClient(config.dataDir, { issuer: config.issuer, exchange: config.exchangeUrl }),
    cookieKeys: loadOrCreateCookieKeys(config.dataDir),
    devicePollInterval: config.devicePollInterval,
    ttl: { idToken: config.idTokenTtl },
    trustedProxies: config.trustedProxies,
    dynamicRegistration: config.dynamicRegistration,
    docsUrl: config.docsUrl,
    adminGroup: config.adminGroup,
    consoleClient: loadOrCreateConsoleClient(config.dataDir, { issuer: config.issuer, exchange: config.exchangeUrl }),
    logger,
  })
  let demo: DemoAccount | undefined
  // Replicas starting together take turns: the first creates the demo account and the keys, the next ones load them.
  const { port } = await withStartupLock(config.store, 'idp-start', async () => {
    demo = config.demoAccount ? await ensureDemoAccount(store, config.dataDir) : undefined
    return idp.listen()
  }).catch((err: unknown) => {
    throw explainListenError(err, [
      { port: config.port, variable: 'MQTT_OIDC_IDP_PORT', stack: true, what: 'the IdP' },
      ...(config.metricsPort === undefined ? [] : [{ port: config.metricsPort, variable: 'MQTT_OIDC_IDP_METRICS_PORT', what: "the IdP's metrics" }]),
    ])
  })
  service.onStop('idp', () => idp.close())
  return { idp, store, port, demo }
}
