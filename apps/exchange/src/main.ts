import { runService } from '@mqtt-oidc/core'
import { loadConfig } from './config.js'
import { createExchangeLogger } from './create-exchange-logger.js'
import { startExchange } from './start-exchange.js'

/** Runs the exchange standalone: `pnpm --filter @mqtt-oidc/exchange start`. Configuration: MQTT_OIDC_EXCHANGE_* (see config.ts). */
runService('exchange', async (service) => {
  const config = loadConfig()
  const log = createExchangeLogger(config.logLevel)
  service.useLog((level, msg, fields) => log[level](fields ?? {}, msg))
  if (config.devWarning) log.warn(config.devWarning)
  const { exchange, url } = await startExchange(config, { logger: log, service })
  log.info({ url, issuer: exchange.issuer, store: config.store ? 'postgresql' : 'sqlite', jwks: `${exchange.issuer}/.well-known/jwks.json` }, 'exchange ready')
})
