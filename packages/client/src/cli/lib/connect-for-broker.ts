import type { MqttClient } from 'mqtt'
import { connectWithToken } from '../../connect-with-token.js'
import type { ConnectRefused } from '../../errors.js'
import { writeLine } from './cli-io.js'
import type { CliIo } from './cli-io.js'
import { fetchBrokerToken, openSession } from './session.js'
import { DEFAULTS } from './settings.js'
import type { Settings } from './settings.js'

export interface BrokerConnectionOptions {
  readonly broker: string
  readonly url?: string | undefined
  /** Called when the broker refuses a later reconnect (the client has ended). */
  readonly onRefused?: (err: ConnectRefused) => void
}

/** Connects to the broker with a fresh broker token, renewing it for as long as the client lives. */
export async function connectForBroker(s: Settings, io: CliIo, options: BrokerConnectionOptions): Promise<MqttClient> {
  const session = await openSession(s)
  return connectWithToken({
    brokerUrl: options.url ?? io.env.brokerUrl ?? DEFAULTS.brokerUrl,
    getToken: () => fetchBrokerToken(s, session, options.broker),
    mqtt: { connectTimeout: 10_000 },
    onRenewError: (err) => writeLine(io.stderr, `mqtt-oidc: warning: could not renew the broker token: ${err instanceof Error ? err.message : String(err)}`),
    ...(options.onRefused ? { onRefused: options.onRefused } : {}),
  })
}
