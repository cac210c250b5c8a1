import { runService } from '@mqtt-oidc/core'
import { loadBrokerConfig } from './config.js'
import { createBrokerLogger } from './create-broker-logger.js'
import { startBroker } from './start-broker.js'

/** Standalone run: `pnpm --filter @mqtt-oidc/broker start`. Configuration: MQTT_OIDC_BROKER_* (see config.ts). */
runService('broker', async (service) => {
  const config = loadBrokerConfig()
  const logger = createBrokerLogger('broker', config.logLevel)
  service.useLog((level, msg, fields) => logger[level](fields ?? {}, msg))
  for (const warning of config.warnings) logger.warn(warning)
  const { addresses } = await startBroker(config, { logger, service })
  process.stdout.write(`broker ${config.brokerId} listening on ${addresses.mqttUrl} and ${addresses.wsUrl}\n`)
})
