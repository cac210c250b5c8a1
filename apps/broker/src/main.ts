import { createBroker } from './create-broker.js'
import { loadConfigOrExit, stopOnSignals } from './lib/standalone.js'

let signals: { stopping(): boolean } | undefined

/** Standalone run: `pnpm --filter @mqtt-oidc/broker start`. Configuration: MQTT_OIDC_BROKER_* (see config.ts). */
async function main(): Promise<void> {
  const { config, logger } = loadConfigOrExit('broker')
  const broker = createBroker({ ...config, logger })
  signals = stopOnSignals(logger, () => broker.close())

  logger.info({ exchange: config.exchangeUrl, broker: config.brokerId }, 'loading revocations before accepting CONNECTs')
  const { mqttUrl, wsUrl } = await broker.listen()
  process.stdout.write(`broker ${config.brokerId} listening on ${mqttUrl} and ${wsUrl}\n`)
}

main().catch((err: unknown) => {
  if (signals?.stopping()) return // closed while waiting for the revocation snapshot
  process.stderr.write(`broker failed: ${err instanceof Error ? err.message : String(err)}\n`)
  process.exit(1)
})
