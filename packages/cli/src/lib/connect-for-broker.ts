import { readFile } from 'node:fs/promises'
import type { MqttClient } from 'mqtt'
import { connectWithToken } from '@mqtt-oidc/client'
import type { BrokerRefusal } from '@mqtt-oidc/client'
import type { BrokerToken } from '@mqtt-oidc/client'
import { fetchTokenRevoked } from '@mqtt-oidc/client'
import { CliError } from './cli-error.js'
import { writeLine } from './cli-io.js'
import type { CliIo } from './cli-io.js'
import { fetchBrokerToken, openSession } from './session.js'
import type { Session } from './session.js'
import { DEFAULTS } from './settings.js'
import type { Settings } from './settings.js'

export interface BrokerConnectionOptions {
  readonly broker: string
  readonly url?: string | undefined
  /** mqtt.js `protocolVersion`: 4 (MQTT 3.1.1, default) or 5. */
  readonly protocolVersion?: 4 | 5 | undefined
  /** Ask the broker to keep the session (clean session off), so it queues QoS 1/2 messages while we reconnect. */
  readonly keepSession?: boolean | undefined
  /** PEM file of the CA(s) that sign the broker's TLS certificate (`mqtts://`, `wss://`); default: the system's CAs. */
  readonly caFile?: string | undefined
  /** Called when the broker refuses a later reconnect (the client has ended). */
  readonly onRefused?: (err: BrokerRefusal) => void
  /** Called with each broker token before it is used (the first one before connecting, then each renewal). */
  readonly onToken?: (token: BrokerToken) => void
  /** The session to use when the caller has opened it already (default: opened here). */
  readonly session?: Session | undefined
}

/** Connects to the broker with a fresh broker token, renewing it for as long as the client lives. */
export async function connectForBroker(s: Settings, io: CliIo, options: BrokerConnectionOptions): Promise<MqttClient> {
  const ca = options.caFile === undefined ? undefined : await readCaFile(options.caFile)
  const session = options.session ?? await openSession(s)
  return connectWithToken({
    brokerUrl: options.url ?? io.env.brokerUrl ?? DEFAULTS.brokerUrl,
    getToken: async () => {
      const token = await fetchBrokerToken(s, session, options.broker)
      options.onToken?.(token)
      return token
    },
    mqtt: { connectTimeout: 10_000, protocolVersion: options.protocolVersion ?? 4, clean: options.keepSession !== true, ...(ca ? { ca } : {}) },
    onRenewError: (err) => writeLine(io.stderr, `mqtt-oidc: warning: could not renew the broker token: ${err instanceof Error ? err.message : String(err)}`),
    isRevoked: (t) => fetchTokenRevoked(s.exchangeUrl, options.broker, t.token, undefined, s.fetchFrom.exchange),
    ...(options.onRefused ? { onRefused: options.onRefused } : {}),
  })
}

async function readCaFile(path: string): Promise<Buffer> {
  const pem = await readFile(path).catch((err: unknown) => {
    throw new CliError(`cannot read --cafile ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`)
  })
  if (!pem.includes('-----BEGIN CERTIFICATE-----')) throw new CliError(`--cafile ${path} holds no PEM certificate (-----BEGIN CERTIFICATE-----)`)
  return pem
}
