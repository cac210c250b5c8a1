import { readFile } from 'node:fs/promises'
import type { MqttClient } from 'mqtt'
import { connectWithToken } from '@mqtt-oidc/client'
import type { BrokerRefusal } from '@mqtt-oidc/client'
import type { BrokerToken } from '@mqtt-oidc/client'
import { fetchTokenRevoked, NotAuthorized } from '@mqtt-oidc/client'
import { CliError } from './cli-error.js'
import { writeLine } from './cli-io.js'
import type { CliIo } from './cli-io.js'
import { fetchBrokerToken, openSession } from './session.js'
import type { Session } from './session.js'
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
  const brokerUrl = options.url ?? s.brokerUrl
  let last: BrokerToken | undefined
  return connectWithToken({
    brokerUrl,
    getToken: async () => {
      const token = await fetchBrokerToken(s, session, options.broker)
      last = token
      options.onToken?.(token)
      return token
    },
    mqtt: { connectTimeout: 10_000, protocolVersion: options.protocolVersion ?? 4, clean: options.keepSession !== true, ...(ca ? { ca } : {}) },
    onRenewError: (err) => writeLine(io.stderr, `mqtt-oidc: warning: could not renew the broker token: ${err instanceof Error ? err.message : String(err)}`),
    isRevoked: (t) => fetchTokenRevoked(s.exchangeUrl, options.broker, t.token, undefined, s.fetchFrom.exchange),
    ...(options.onRefused ? { onRefused: options.onRefused } : {}),
  }).catch((err: unknown) => {
    throw err instanceof NotAuthorized && last !== undefined ? explainNotAuthorized(err, last, options.broker, brokerUrl) : err
  })
}

/**
 * CONNACK 5 (MQTT 5: 0x87, 0x85) says only "not authorized". What we sent is
 * known: the token's audience, client id and username. Say them, and the
 * likeliest cause: --url reaches another broker than --broker names.
 */
function explainNotAuthorized(err: NotAuthorized, token: BrokerToken, broker: string, url: string): CliError {
  const who = `client id ${token.clientId}${token.username === undefined ? '' : `, username ${token.username}`}`
  return new CliError(`the broker at ${url} does not authorize a token for broker "${broker}" with ${who} (CONNACK ${err.returnCode}: not authorized): ` +
    `is ${url} the broker "${broker}"? (--url, env MQTT_OIDC_CLI_BROKER_URL; --broker)`)
}

async function readCaFile(path: string): Promise<Buffer> {
  const pem = await readFile(path).catch((err: unknown) => {
    throw new CliError(`cannot read --cafile ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`)
  })
  if (!pem.includes('-----BEGIN CERTIFICATE-----')) throw new CliError(`--cafile ${path} holds no PEM certificate (-----BEGIN CERTIFICATE-----)`)
  return pem
}
