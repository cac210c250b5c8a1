import { pino, type DestinationStream, type Logger } from 'pino'
import { LOG_REDACTION } from '@mqtt-oidc/core'

/**
 * The logger of the broker app's entry points (`app`: `broker` or
 * `emqx-hook`): pino at `level`, with the one redaction every app's logger
 * has (core's LOG_REDACTION: no CONNECT password, token, feed credential or
 * EMQX API secret reaches a line, in any field).
 *
 * @example const logger = createBrokerLogger('broker', config.logLevel)
 */
export function createBrokerLogger(app: 'broker' | 'emqx-hook', level = 'info', destination?: DestinationStream): Logger {
  return pino({ level, base: { app }, ...LOG_REDACTION }, destination)
}
