import { pino, type DestinationStream, type Logger } from 'pino'
import { LOG_REDACTION } from '@mqtt-oidc/core'

/**
 * The IdP's logger: pino at `level`, with the one redaction every app's
 * logger has (core's LOG_REDACTION: no password, token, secret, cookie or
 * Authorization reaches a line, in any field).
 *
 * @example const logger = createIdpLogger(config.logLevel)
 */
export function createIdpLogger(level = 'info', destination?: DestinationStream): Logger {
  return pino({ name: 'idp', level, ...LOG_REDACTION }, destination)
}
