import { pino } from 'pino'
import { BrokerConfigError, loadBrokerConfig } from './config.js'
import { LOG_REDACT } from './create-broker.js'
import { createEmqxHookServer } from './create-emqx-hook-server.js'

/**
 * Standalone EMQX HTTP auth/authz hook: `pnpm --filter @mqtt-oidc/broker start:emqx-hook`.
 * Configuration: MQTT_OIDC_BROKER_* (see config.ts; the broker id is EMQX's `aud`).
 */
async function main(): Promise<void> {
  let config
  try {
    config = loadBrokerConfig(process.env)
  } catch (err) {
    if (!(err instanceof BrokerConfigError)) throw err
    process.stderr.write(`${err.message}\n`)
    process.exit(2)
  }
  const logger = pino({ level: config.logLevel, redact: LOG_REDACT, base: { app: 'emqx-hook' } })
  for (const warning of config.warnings) logger.warn(warning)
  const hook = createEmqxHookServer({ ...config, port: config.emqxHookPort, logger })
  const stop = (): void => void hook.close().then(() => process.exit(0))
  process.once('SIGINT', stop)
  process.once('SIGTERM', stop)
  const { url } = await hook.listen()
  process.stdout.write(`EMQX hook for broker ${config.brokerId} at ${url}/emqx/authn and ${url}/emqx/authz\n`)
}

main().catch((err: unknown) => {
  process.stderr.write(`EMQX hook failed: ${err instanceof Error ? err.message : String(err)}\n`)
  process.exit(1)
})
