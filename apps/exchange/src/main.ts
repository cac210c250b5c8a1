import { mkdirSync } from 'node:fs'
import { pino } from 'pino'
import { openStore, withStartupLock } from '@mqtt-oidc/store'
import { ConfigError, exchangeOptionsFromConfig, loadConfig } from './config.js'
import { REDACT_PATHS, createExchange } from './create-exchange.js'
import { ensureBroker } from './ensure-broker.js'
import { ensureFeedCredentials } from './ensure-feed-credentials.js'

/** Runs the exchange standalone: `pnpm --filter @mqtt-oidc/exchange start`. */
async function main(): Promise<void> {
  const config = loadConfig()
  const log = pino({ name: 'exchange', level: config.logLevel, redact: REDACT_PATHS })
  if (config.devWarning) log.warn(config.devWarning)
  mkdirSync(config.dataDir, { recursive: true, mode: 0o700 })
  const store = await openStore({ url: config.store, dataDir: config.dataDir, file: 'exchange.sqlite' })
  // Our IdP's accounts, client id owners and cut-offs: on PostgreSQL the one shared store; on
  // SQLite the IdP's idp.sqlite in the same data dir, as `pnpm start` lays it out.
  const identityStore = config.store ? store : await openStore({ dataDir: config.dataDir, file: 'idp.sqlite' })
  await ensureBroker(store, { id: 'demo', url: config.demoBrokerUrl })
  for (const broker of config.bootstrapBrokers) await ensureBroker(store, broker)
  const exchange = createExchange({ store, identityStore, logger: log, ...exchangeOptionsFromConfig(config) })
  const { url } = await withStartupLock(config.store, 'exchange-start', async () => {
    await ensureFeedCredentials(store, ['demo', ...config.bootstrapBrokers.map((b) => b.id)], config.feedCredentialDir, log)
    return exchange.listen()
  })
  log.info({ url, issuer: exchange.issuer, store: config.store ? 'postgresql' : 'sqlite', jwks: `${exchange.issuer}/.well-known/jwks.json` }, 'exchange ready')

  let stopping = false
  const stop = (signal: string): void => {
    if (stopping) return
    stopping = true
    log.info({ signal }, 'stopping')
    exchange.close()
      .then(() => store.close())
      .then(() => (identityStore === store ? undefined : identityStore.close()))
      .then(() => process.exit(0), (err: unknown) => {
        log.error({ err }, 'stop failed')
        process.exit(1)
      })
  }
  process.once('SIGINT', () => stop('SIGINT'))
  process.once('SIGTERM', () => stop('SIGTERM'))
}

main().catch((err: unknown) => {
  if (err instanceof ConfigError) console.error(err.message)
  else console.error('exchange failed to start:', err)
  process.exit(1)
})
