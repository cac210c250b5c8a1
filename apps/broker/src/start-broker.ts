import type { Logger } from 'pino'
import type { ServiceControl } from '@mqtt-oidc/core'
import type { BrokerConfig } from './config.js'
import { createBroker, type Broker, type BrokerAddresses } from './create-broker.js'

/**
 * Starts the aedes broker as `config` says, the one wiring both its own
 * entry point and the embedded stack use: it loads the revocation snapshot
 * (and the exchange's keys) before it accepts a CONNECT, then listens. It is
 * handed to `service` to close on stop before listening, so a stop while
 * the snapshot loads closes what has started.
 *
 * @example runService('broker', async (service) => { await startBroker(loadBrokerConfig(), { logger, service }) })
 */
export async function startBroker(config: BrokerConfig, options: { readonly logger: Logger; readonly service: ServiceControl }): Promise<{ broker: Broker; addresses: BrokerAddresses }> {
  const broker = createBroker({ ...config, logger: options.logger })
  options.service.onStop('broker', () => broker.close())
  options.logger.info({ exchange: config.exchangeUrl, broker: config.brokerId }, 'loading revocations before accepting CONNECTs')
  return { broker, addresses: await broker.listen() }
}
