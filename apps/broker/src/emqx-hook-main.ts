import { createEmqxHookServer } from './create-emqx-hook-server.js'
import { loadConfigOrExit, stopOnSignals } from './lib/standalone.js'

/**
 * Standalone EMQX HTTP auth/authz hook: `pnpm --filter @mqtt-oidc/broker start:emqx-hook`.
 * Configuration: MQTT_OIDC_BROKER_* (see config.ts; the broker id is EMQX's `aud`).
 */
async function main(): Promise<void> {
  const { config, logger } = loadConfigOrExit('emqx-hook')
  const hook = createEmqxHookServer({ ...config, port: config.emqxHookPort, logger })
  stopOnSignals(logger, () => hook.close())
  const { url } = await hook.listen()
  process.stdout.write(`EMQX hook for broker ${config.brokerId} at ${url}/emqx/authn and ${url}/emqx/authz\n`)
}

main().catch((err: unknown) => {
  process.stderr.write(`EMQX hook failed: ${err instanceof Error ? err.message : String(err)}\n`)
  process.exit(1)
})
