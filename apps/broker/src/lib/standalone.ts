import { pino, type Logger } from 'pino'
import { BrokerConfigError, loadBrokerConfig, type BrokerConfig } from '../config.js'
import { LOG_REDACT } from '../create-broker.js'

/**
 * The start of the broker's entry points (main.ts, emqx-hook-main.ts): the
 * configuration from MQTT_OIDC_BROKER_* (an invalid one prints every problem
 * and exits 2) and a logger for `app` that has logged the config's warnings.
 */
export function loadConfigOrExit(app: string): { config: BrokerConfig; logger: Logger } {
  let config: BrokerConfig
  try {
    config = loadBrokerConfig(process.env)
  } catch (err) {
    if (!(err instanceof BrokerConfigError)) throw err
    process.stderr.write(`${err.message}\n`)
    process.exit(2)
  }
  const logger = pino({ level: config.logLevel, redact: LOG_REDACT, base: { app } })
  for (const warning of config.warnings) logger.warn(warning)
  return { config, logger }
}

/**
 * On the first SIGINT or SIGTERM, runs `close` and exits 0 (1 when closing
 * failed). `stopping()` says whether that has begun, so a start-up still in
 * progress can tell a failure from being stopped.
 */
export function stopOnSignals(logger: Logger, close: () => Promise<void>): { stopping(): boolean } {
  let stopping = false
  const stop = (signal: string): void => {
    if (stopping) return
    stopping = true
    logger.info({ signal }, 'stopping')
    close().then(() => process.exit(0), (err: unknown) => {
      logger.error({ err }, 'close failed')
      process.exit(1)
    })
  }
  process.once('SIGINT', () => stop('SIGINT'))
  process.once('SIGTERM', () => stop('SIGTERM'))
  return { stopping: () => stopping }
}
