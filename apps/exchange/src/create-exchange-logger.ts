import { pino, type DestinationStream, type Logger } from 'pino'
import { LOG_REDACTION } from '@mqtt-oidc/core'

/**
 * The exchange's logger: pino at `level`, with the one redaction every
 * app's logger has (core's LOG_REDACTION: no subject token, broker token,
 * HMAC or feed secret, private key or Authorization reaches a line).
 *
 * @example const logger = createExchangeLogger(config.logLevel)
 */
export function createExchangeLogger(level = 'info', destination?: DestinationStream): Logger {
  return pino({ name: 'exchange', level, ...LOG_REDACTION }, destination)
}
