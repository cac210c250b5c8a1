import { connect } from 'mqtt'
import type { IClientOptions, MqttClient, Packet } from 'mqtt'
import { ConnectRefused, LoginRequired } from './errors.js'

/** What `connectWithToken` needs from a broker token (an `exchangeToken` result fits). */
export interface ConnectToken {
  /** The broker JWT, sent as the CONNECT password. */
  readonly token: string
  /** The token's `sub`, sent as the CONNECT client id. */
  readonly clientId: string
  /** The token's `username` claim; sent only with `sendUsername`. */
  readonly username?: string | undefined
  /** Epoch seconds; when set, the token is renewed ahead of it. */
  readonly expiresAt?: number | undefined
}

export interface ConnectWithTokenOptions {
  /** `mqtt://`, `mqtts://`, `ws://` or `wss://` URL of the broker. */
  readonly brokerUrl: string
  /** Fetches a fresh broker token (refresh + exchange). Called once to connect, then ahead of each expiry. */
  readonly getToken: () => Promise<ConnectToken>
  /** Extra mqtt.js options. `clientId`, `password` and `username` are always taken from the token. */
  readonly mqtt?: IClientOptions | undefined
  /**
   * Send the token's `username` claim (else its `sub`) as CONNECT username.
   * Default false: an empty username (a password needs the username flag in
   * MQTT 3.1.1), so the token alone identifies the client.
   */
  readonly sendUsername?: boolean | undefined
  /** Renew this many seconds before `expiresAt`. Default 60, capped at half the remaining lifetime. */
  readonly renewBeforeSeconds?: number | undefined
  /** A background renewal failed (it is retried while the current token is valid, except `LoginRequired`). */
  readonly onRenewError?: ((err: unknown) => void) | undefined
  /** The broker refused a (re)connect; the client has been ended and will not reconnect. */
  readonly onRefused?: ((err: ConnectRefused) => void) | undefined
}

const MAX_TIMER_MS = 2_147_483_647

/**
 * Connects an mqtt.js client with a broker token: client id = the token's
 * `sub`, password = the token. Resolves once the broker accepted CONNECT.
 *
 * The token is renewed ahead of its expiry and written to
 * `client.options.password` (mqtt.js builds every reconnect's CONNECT from
 * `client.options`), so automatic reconnects always present a current token.
 * A CONNACK refusal (3.1.1 codes 1-5, MQTT 5 reason codes >= 0x80) rejects
 * the first connect with `ConnectRefused`; later it ends the client (no
 * reconnect loop) and is reported through `onRefused`. The client keeps an
 * `'error'` listener of its own, so a transient network error never crashes
 * the process; add yours to observe them.
 *
 * @example
 * const client = await connectWithToken({
 *   brokerUrl: 'mqtt://localhost:1883',
 *   getToken: async () => exchangeToken({ exchangeUrl, broker: 'demo', subjectToken: await getIdToken(config, store) }),
 * })
 */
export async function connectWithToken(options: ConnectWithTokenOptions): Promise<MqttClient> {
  const first = await options.getToken()
  const { username: _ignored, ...mqttOptions } = options.mqtt ?? {}
  const client = connect(options.brokerUrl, {
    reconnectPeriod: 1000,
    ...mqttOptions,
    ...credentials(first, options.sendUsername === true),
    reconnectOnConnackError: false,
  })
  let refused: ConnectRefused | undefined
  client.on('packetreceive', (packet: Packet) => {
    if (packet.cmd !== 'connack') return
    const rc = (client.options.protocolVersion === 5 ? packet.reasonCode : packet.returnCode) ?? 0
    if (rc !== 0) refused = new ConnectRefused(rc)
  })
  const renewal = scheduleRenewal(client, options, first)
  client.once('end', () => renewal.stop())
  await firstConnect(client, () => refused)
  client.on('error', () => {
    if (refused === undefined) return
    const err = refused
    refused = undefined
    renewal.stop()
    client.end(true)
    options.onRefused?.(err)
  })
  return client
}

// MQTT 3.1.1 (and mqtt.js for every version) sends a password only with a
// username, so "no username" is the empty string, which brokers treat as none.
function credentials(t: ConnectToken, sendUsername: boolean): Pick<IClientOptions, 'clientId' | 'password' | 'username'> {
  return { clientId: t.clientId, password: t.token, username: sendUsername ? t.username ?? t.clientId : '' }
}

function firstConnect(client: MqttClient, refusal: () => ConnectRefused | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    const onConnect = (): void => {
      client.off('error', onError)
      resolve()
    }
    const onError = (err: Error): void => {
      client.off('connect', onConnect)
      client.end(true)
      reject(refusal() ?? err)
    }
    client.once('connect', onConnect)
    client.once('error', onError)
  })
}

function scheduleRenewal(client: MqttClient, options: ConnectWithTokenOptions, first: ConnectToken): { stop(): void } {
  let timer: NodeJS.Timeout | undefined
  let stopped = false
  const plan = (t: ConnectToken): void => {
    if (stopped || t.expiresAt === undefined) return
    const left = t.expiresAt - Date.now() / 1000
    const before = Math.min(options.renewBeforeSeconds ?? 60, left / 2)
    arm((left - before) * 1000, t)
  }
  const arm = (ms: number, current: ConnectToken): void => {
    timer = setTimeout(() => void renew(current), Math.min(Math.max(ms, 0), MAX_TIMER_MS))
    timer.unref()
  }
  const renew = async (current: ConnectToken): Promise<void> => {
    try {
      const next = await options.getToken()
      if (stopped) return
      Object.assign(client.options, credentials(next, options.sendUsername === true))
      plan(next)
    } catch (err) {
      if (stopped) return
      options.onRenewError?.(err)
      const left = (current.expiresAt ?? 0) - Date.now() / 1000
      // LoginRequired needs a person; the broker will refuse the expired token and end the client.
      if (!(err instanceof LoginRequired) && left > 1) arm(Math.min(30, left / 2) * 1000, current)
    }
  }
  plan(first)
  return {
    stop() {
      stopped = true
      clearTimeout(timer)
    },
  }
}
