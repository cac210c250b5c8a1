import { pino } from 'pino'
import { BrokerConfigError, loadBrokerConfig } from './config.js'
import { createBroker, LOG_REDACT } from './create-broker.js'

let stopping = false

/** Standalone run: `pnpm --filter @mqtt-oidc/broker start`. Configuration: MQTT_OIDC_BROKER_* (see config.ts). */
async function main(): Promise<void> {
  let config
  try {
    config = loadBrokerConfig(process.env)
  } catch (err) {
    if (!(err instanceof BrokerConfigError)) throw err
    process.stderr.write(`${err.message}\n`)
    process.exit(2)
  }
  const logger = pino({ level: config.logLevel, redact: LOG_REDACT, base: { app: 'broker' } })
  for (const warning of config.warnings) logger.warn(warning)
  const broker = createBroker({ ...config, logger })

  const stop = (signal: string): void => {
    if (stopping) return
    stopping = true
    logger.info({ signal }, 'stopping')
    broker.close().then(() => process.exit(0), (err: unknown) => {
      logger.error({ err }, 'close failed')
      process.exit(1)
    })
  }
  process.once('SIGINT', () => stop('SIGINT'))
  process.once('SIGTERM', () => stop('SIGTERM'))

  logger.info({ exchange: config.exchangeUrl, broker: config.brokerId }, 'loading revocations before accepting CONNECTs')
  const { mqttUrl, wsUrl } = await broker.listen()
  process.stdout.write(`broker ${config.brokerId} listening on ${mqttUrl} and ${wsUrl}\n`)
}

main().catch((err: unknown) => {
  if (stopping) return // closed while waiting for the revocation snapshot
  process.stderr.write(`broker failed: ${err instanceof Error ? err.message : String(err)}\n`)
  process.exit(1)
})
