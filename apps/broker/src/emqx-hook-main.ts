import { explainListenError, runService } from '@mqtt-oidc/core'
import { loadBrokerConfig } from './config.js'
import { createBrokerLogger } from './create-broker-logger.js'
import { createEmqxHookServer } from './create-emqx-hook-server.js'

/**
 * Standalone EMQX HTTP auth/authz hook: `pnpm --filter @mqtt-oidc/broker start:emqx-hook`.
 * Configuration: MQTT_OIDC_BROKER_* (see config.ts; the broker id is EMQX's `aud`).
 */
runService('emqx-hook', async (service) => {
  const config = loadBrokerConfig(process.env, 'emqx-hook')
  const logger = createBrokerLogger('emqx-hook', config.logLevel)
  service.useLog((level, msg, fields) => logger[level](fields ?? {}, msg))
  for (const warning of config.warnings) logger.warn(warning)
  const hook = createEmqxHookServer({ ...config, port: config.emqxHookPort, logger })
  service.onStop('EMQX hook', () => hook.close())
  const { url } = await hook.listen().catch((err: unknown) => {
    throw explainListenError(err, [{ port: config.emqxHookPort, variable: 'MQTT_OIDC_BROKER_EMQX_HOOK_PORT', stack: true, what: 'the EMQX hook' }])
  })
  process.stdout.write(`EMQX hook for broker ${config.brokerId} at ${url}/emqx/authn and ${url}/emqx/authz\n`)
})
