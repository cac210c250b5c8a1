import type { Logger } from 'pino'
import { explainListenError, type PortSetting, type ServiceControl } from '@mqtt-oidc/core'
import type { BrokerConfig } from './config.js'
import { createBroker, type Broker, type BrokerAddresses } from './create-broker.js'

/**
 * Starts the aedes broker as `config` says, the one wiring both its own
 * entry point and the embedded stack use: it loads the revocation snapshot
 * (and the exchange's keys) before it accepts a CONNECT, then listens. It is
 * handed to `service` to close on stop before listening, so a stop while
 * the snapshot loads closes what has started. A port in use fails with a
 * ListenError naming the variable that moves it.
 *
 * @example runService('broker', async (service) => { await startBroker(loadBrokerConfig(), { logger, service }) })
 */
export async function startBroker(
  config: BrokerConfig,
  options: { readonly logger: Logger; readonly service: ServiceControl },
): Promise<{ broker: Broker; addresses: BrokerAddresses }> {
  const broker = createBroker({ ...config, logger: options.logger })
  options.service.onStop('broker', () => broker.close())
  options.logger.info({ exchange: config.exchangeUrl, broker: config.brokerId }, 'loading revocations before accepting CONNECTs')
  const addresses = await broker.listen().catch((err: unknown) => {
    throw explainListenError(err, brokerPorts(config))
  })
  return { broker, addresses }
}

/** The broker's listeners and the variables that move them. */
export function brokerPorts(config: BrokerConfig): PortSetting[] {
  return [
    { port: config.mqttPort, variable: 'MQTT_OIDC_BROKER_MQTT_PORT', stack: true, what: 'MQTT' },
    { port: config.wsPort, variable: 'MQTT_OIDC_BROKER_WS_PORT', stack: true, what: 'MQTT over WebSocket' },
    ...(config.tls ? [{ port: config.tls.port, variable: 'MQTT_OIDC_BROKER_TLS_PORT', stack: true, what: 'MQTT over TLS' }] : []),
    ...(config.metricsPort === undefined ? [] : [{ port: config.metricsPort, variable: 'MQTT_OIDC_BROKER_METRICS_PORT', what: "the broker's metrics" }]),
  ]
}
