import { connect } from 'mqtt'
import type { IClientOptions, MqttClient, Packet } from 'mqtt'
import { BrokerCertificateUntrusted } from './errors.js'
import type { BrokerRefusal } from './errors.js'
import { untrustedCertificateReason } from './lib/untrusted-certificate-reason.js'
import { classifyRefusal, TRANSIENT_CONNACK } from './lib/classify-refusal.js'
import { createBackoff } from './lib/create-backoff.js'
import { reconnectNow } from './lib/reconnect-now.js'
import { scheduleRenewal } from './lib/schedule-renewal.js'

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
  /** The token's `jti` (to tell a revoked token from another refusal). */
  readonly jti?: string | undefined
}

export interface ConnectWithTokenOptions {
  /** `mqtt://`, `mqtts://`, `ws://` or `wss://` URL of the broker. */
  readonly brokerUrl: string
  /** Fetches a fresh broker token (refresh + exchange). Called once to connect, then ahead of each expiry. */
  readonly getToken: () => Promise<ConnectToken>
  /**
   * Extra mqtt.js options. `clientId`, `password` and `username` are always taken from the token.
   * `reconnectPeriod` (default 1000 ms; 0 = never reconnect) is the ceiling of the first reconnect
   * delay, doubled per failed attempt up to `maxReconnectPeriod`, each delay drawn at random
   * between half and all of its ceiling.
   */
  readonly mqtt?: IClientOptions | undefined
  /** Largest ceiling of the reconnect back-off, ms. Default 30000. */
  readonly maxReconnectPeriod?: number | undefined
  /**
   * Send the token's `username` claim (else its `sub`) as CONNECT username.
   * Default false: an empty username (a password needs the username flag in
   * MQTT 3.1.1), so the token alone identifies the client.
   */
  readonly sendUsername?: boolean | undefined
  /**
   * Renew at the latest this many seconds before `expiresAt`. Default 60, capped at half the
   * remaining lifetime. Renewals are spread at random over the last quarter of the time until then.
   */
  readonly renewBeforeSeconds?: number | undefined
  /**
   * Reconnect with the renewed token right away (default true), so the
   * broker never cuts the session at the old token's expiry. With false the
   * renewed token is only used by the next automatic reconnect.
   */
  readonly reconnectOnRenew?: boolean | undefined
  /** A renewed token is in place (and, with `reconnectOnRenew`, a reconnect has started). */
  readonly onRenewed?: ((token: ConnectToken) => void) | undefined
  /** A background renewal failed (it is retried while the current token is valid, except `LoginRequired`). */
  readonly onRenewError?: ((err: unknown) => void) | undefined
  /** The broker refused a later reconnect for good; the client has been ended and will not reconnect. */
  readonly onRefused?: ((err: BrokerRefusal) => void) | undefined
  /** Asked when the broker refuses an unexpired token as a bad credential: is it revoked? */
  readonly isRevoked?: ((token: ConnectToken) => Promise<boolean>) | undefined
}

/**
 * Connects an mqtt.js client with a broker token: client id = the token's
 * `sub`, password = the token. Resolves once the broker accepted CONNECT.
 *
 * The token is renewed ahead of its expiry and written to `client.options`
 * (mqtt.js builds every reconnect's CONNECT from it); then the connection is
 * replaced at once, before the broker would cut it at the old expiry,
 * keeping unacknowledged QoS 1/2 messages (see `reconnectNow`).
 *
 * Reconnects after a lost connection back off exponentially with jitter
 * (see `mqtt.reconnectPeriod`), so a fleet whose broker restarted comes back
 * spread out instead of in lockstep; a successful CONNACK starts over.
 *
 * A CONNACK refusal rejects the first connect with a typed error
 * (`NotAuthorized`, `BrokerTokenExpired`, `BrokerTokenRevoked`,
 * `ProtocolVersionRefused`, else `ConnectRefused`); later it ends the client
 * (no reconnect loop) and is reported through `onRefused`. A broker TLS
 * certificate that is not trusted rejects the first connect with
 * `BrokerCertificateUntrusted` (before the token is sent). "Server unavailable" (3, 0x88, 0x89, 0x9F)
 * is not final: the client keeps reconnecting. The client keeps an `'error'`
 * listener of its own, so a transient network error never crashes the
 * process; add yours to observe them.
 *
 * @example
 * const client = await connectWithToken({
 *   brokerUrl: 'mqtt://localhost:1883',
 *   getToken: async () => exchangeToken({ exchangeUrl, broker: 'demo', subjectToken: await getIdToken(config, store) }),
 * })
 */
export async function connectWithToken(options: ConnectWithTokenOptions): Promise<MqttClient> {
  let current = await options.getToken()
  let renewError: unknown
  const { username: _ignored, ...mqttOptions } = options.mqtt ?? {}
  const reconnectPeriod = mqttOptions.reconnectPeriod ?? 1000
  // Also paces CONNACK 3 retries, which happen even with reconnectPeriod 0 (not a refusal): then from 1 s.
  const backoff = createBackoff({ initialMs: reconnectPeriod || 1000, maxMs: Math.max(reconnectPeriod, options.maxReconnectPeriod ?? 30_000) })
  const client = connect(options.brokerUrl, {
    ...mqttOptions,
    reconnectPeriod,
    ...credentials(current, options.sendUsername === true),
    reconnectOnConnackError: false,
  })
  if (reconnectPeriod > 0) {
    // mqtt.js arms its reconnect timer from options.reconnectPeriod in its own 'close' listener:
    // set the next back-off delay just before it reads it.
    client.prependListener('close', () => {
      client.options.reconnectPeriod = backoff.next()
    })
    client.on('connect', () => backoff.reset())
  }
  let refusedCode: number | undefined
  client.on('packetreceive', (packet: Packet) => {
    if (packet.cmd !== 'connack') return
    const rc = (client.options.protocolVersion === 5 ? packet.reasonCode : packet.returnCode) ?? 0
    refusedCode = rc === 0 ? undefined : rc
  })
  const renewal = scheduleRenewal(current, {
    getToken: options.getToken,
    renewBeforeSeconds: options.renewBeforeSeconds ?? 60,
    onToken: (next) => {
      current = next
      renewError = undefined
      Object.assign(client.options, credentials(next, options.sendUsername === true))
      if (options.reconnectOnRenew !== false) reconnectNow(client)
      options.onRenewed?.(next)
    },
    onError: (err) => {
      renewError = err
      options.onRenewError?.(err)
    },
  })
  client.once('end', () => renewal.stop())
  const classify = (returnCode: number): Promise<BrokerRefusal> =>
    classifyRefusal({ returnCode, token: current, renewError, isRevoked: options.isRevoked, protocolVersion: client.options.protocolVersion })
  await firstConnect(client, () => refusedCode, classify)
  client.on('error', () => {
    const rc = refusedCode
    if (rc === undefined) return
    refusedCode = undefined
    if (TRANSIENT_CONNACK.has(rc)) {
      // The refused connection closes after this 'error'; its 'close' has set the back-off delay by then.
      client.once('close', () => {
        const retry = setTimeout(
          () => {
            if (!client.disconnecting) client.reconnect({ incomingStore: client.incomingStore, outgoingStore: client.outgoingStore })
          },
          reconnectPeriod > 0 ? client.options.reconnectPeriod : backoff.next(),
        )
        retry.unref()
      })
      return
    }
    renewal.stop()
    client.end(true)
    void classify(rc).then((err) => options.onRefused?.(err))
  })
  return client
}

// MQTT 3.1.1 (and mqtt.js for every version) sends a password only with a
// username, so "no username" is the empty string, which brokers treat as none.
function credentials(t: ConnectToken, sendUsername: boolean): Pick<IClientOptions, 'clientId' | 'password' | 'username'> {
  return { clientId: t.clientId, password: t.token, username: sendUsername ? (t.username ?? t.clientId) : '' }
}

function firstConnect(client: MqttClient, refusal: () => number | undefined, classify: (rc: number) => Promise<BrokerRefusal>): Promise<void> {
  return new Promise((resolve, reject) => {
    const onConnect = (): void => {
      client.off('error', onError)
      resolve()
    }
    const onError = (err: Error): void => {
      client.off('connect', onConnect)
      client.end(true)
      const rc = refusal()
      const tlsReason = untrustedCertificateReason(err)
      if (rc !== undefined) void classify(rc).then(reject)
      else if (tlsReason !== undefined) reject(new BrokerCertificateUntrusted(tlsReason, { cause: err }))
      else reject(err)
    }
    client.once('connect', onConnect)
    client.once('error', onError)
  })
}
