import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import type { Logger } from 'pino'
import { explainListenError, type ServiceControl, type Store } from '@mqtt-oidc/core'
import { openStore, withStartupLock } from '@mqtt-oidc/store'
import { exchangeOptionsFromConfig, type ExchangeConfig } from './config.js'
import { createExchange, type Exchange } from './create-exchange.js'
import { ensureBroker } from './ensure-broker.js'
import { ensureFeedCredentials } from './ensure-feed-credentials.js'

export interface StartExchangeOptions {
  readonly logger: Logger
  readonly service: ServiceControl
  /**
   * Our IdP's store (accounts, client id owners, cut-offs). Default: the
   * exchange's own on PostgreSQL (one store for every app); on SQLite the
   * IdP's `<dataDir>/idp.sqlite`, as `npm start` lays the data directory out.
   */
  readonly identityStore?: Store | undefined
  /**
   * The broker created on first start, at MQTT_OIDC_EXCHANGE_DEMO_BROKER_URL,
   * and the file its feed credential is written to. Default `demo`, in
   * `<feed credential dir>/demo`; the embedded stack names its broker's.
   */
  readonly demoBroker?: { readonly id: string; readonly feedCredentialFile: string } | undefined
}

export interface StartedExchange {
  readonly exchange: Exchange
  readonly store: Store
  /** The bound local address. */
  readonly url: string
}

/**
 * Starts the exchange as `config` says, the one wiring both its own entry
 * point and the embedded stack use: opens its store, creates the demo
 * broker and the bootstrap brokers when missing, and, under the startup
 * lock, issues their feed credentials into their files and listens. What it
 * opens is handed to `service` to close on stop, the stores last. A port in
 * use fails with a ListenError naming the variable that moves it.
 *
 * @example runService('exchange', async (service) => { await startExchange(loadConfig(), { logger, service }) })
 */
export async function startExchange(config: ExchangeConfig, options: StartExchangeOptions): Promise<StartedExchange> {
  const { logger, service } = options
  mkdirSync(config.dataDir, { recursive: true, mode: 0o700 })
  const store = await openStore({ url: config.store, dataDir: config.dataDir, file: 'exchange.sqlite' })
  service.onStop('exchange store', () => store.close())
  let identityStore = options.identityStore
  if (!identityStore) {
    const opened = config.store ? store : await openStore({ dataDir: config.dataDir, file: 'idp.sqlite' })
    if (opened !== store) service.onStop('identity store', () => opened.close())
    identityStore = opened
  }
  const demo = options.demoBroker ?? { id: 'demo', feedCredentialFile: join(config.feedCredentialDir, 'demo') }
  await ensureBroker(store, { id: demo.id, url: config.demoBrokerUrl })
  for (const broker of config.bootstrapBrokers) await ensureBroker(store, broker)
  const exchange = createExchange({ store, identityStore, logger, ...exchangeOptionsFromConfig(config) })
  const { url } = await withStartupLock(config.store, 'exchange-start', async () => {
    const bootstrapped = config.bootstrapBrokers.filter((b) => b.id !== demo.id).map((b) => ({ broker: b.id, file: join(config.feedCredentialDir, b.id) }))
    await ensureFeedCredentials(store, [{ broker: demo.id, file: demo.feedCredentialFile }, ...bootstrapped], logger)
    return exchange.listen()
  }).catch((err: unknown) => {
    throw explainListenError(err, [
      { port: config.port, variable: 'MQTT_OIDC_EXCHANGE_PORT', stack: true, what: 'the exchange' },
      ...(config.metricsPort === undefined ? [] : [{ port: config.metricsPort, variable: 'MQTT_OIDC_EXCHANGE_METRICS_PORT', what: "the exchange's metrics" }]),
    ])
  })
  service.onStop('exchange', () => exchange.close())
  return { exchange, store, url }
}
