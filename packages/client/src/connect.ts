import { dirname } from 'node:path'
import type { IClientOptions, MqttClient } from 'mqtt'
import { connectWithToken } from './connect-with-token.js'
import type { ConnectToken } from './connect-with-token.js'
import { createTokenStore } from './create-token-store.js'
import type { TokenStore } from './create-token-store.js'
import type { FetchFrom } from './create-admin-client.js'
import { discoverIssuer } from './discover-issuer.js'
import type { BrokerRefusal } from './errors.js'
import { exchangeToken } from './exchange-token.js'
import type { BrokerToken } from './exchange-token.js'
import { getIdToken } from './get-id-token.js'
import { fetchTokenRevoked } from './fetch-token-revoked.js'

/** The OIDC client id of the mqtt-oidc CLI, which `connect` uses unless told otherwise. */
export const DEFAULT_CLIENT_ID = 'mqtt-oidc-cli'

export interface ConnectOptions {
  /** OIDC issuer URL (any issuer the exchange trusts). */
  readonly issuer: string
  /** OIDC client id the login was made with. Default `mqtt-oidc-cli`. */
  readonly clientId?: string | undefined
  /** Base URL of the exchange. */
  readonly exchangeUrl: string
  /** Other addresses to send the issuer's and the exchange's requests to (see FetchFrom). */
  readonly fetchFrom?: FetchFrom | undefined
  /** Broker id (the token audience). */
  readonly broker: string
  /** `mqtt://`, `mqtts://`, `ws://` or `wss://` URL of the broker. */
  readonly brokerUrl: string
  /** Where the login is cached: a token store, or the directory of one (`mqtt-oidc login --config-dir`). One is required. */
  readonly tokenStore?: TokenStore | undefined
  readonly configDir?: string | undefined
  /**
   * Extra mqtt.js options (`protocolVersion: 5`, `clean: false`, TLS `ca`, ...).
   * `reconnectPeriod` (default 1000 ms) is the ceiling of the first reconnect delay, doubled per
   * failed attempt up to `maxReconnectPeriod`, each delay random between half and all of it.
   * With `mqtts://`/`wss://`, `ca` replaces the system CAs; an untrusted broker certificate rejects with `BrokerCertificateUntrusted`.
   */
  readonly mqtt?: IClientOptions | undefined
  /** Largest ceiling of the reconnect back-off, ms. Default 30000. */
  readonly maxReconnectPeriod?: number | undefined
  /** Send the token's `username` claim as CONNECT username (default: empty username). */
  readonly sendUsername?: boolean | undefined
  /**
   * Renew at the latest this many seconds before the broker token expires. Default 60, capped at
   * half its lifetime; renewals are spread at random over the last quarter of the time until then.
   */
  readonly renewBeforeSeconds?: number | undefined
  /** Each renewed broker token (after a refresh, if the ID token needed one, and an exchange). */
  readonly onRenewed?: ((token: BrokerToken) => void) | undefined
  /** A renewal failed; retried while the current token is valid. `LoginRequired` means a person must log in again. */
  readonly onRenewError?: ((err: unknown) => void) | undefined
  /**
   * The broker refused a reconnect for good and the client has ended:
   * `BrokerTokenRevoked`, `BrokerTokenExpired` (renewal failed; see `cause`),
   * `NotAuthorized`, `ProtocolVersionRefused` or `ConnectRefused`.
   */
  readonly onRefused?: ((err: BrokerRefusal) => void) | undefined
}

/**
 * The gateway's one call: an mqtt.js client connected to `broker` as the
 * logged-in identity, kept connected for as long as the login lasts.
 *
 * It reads the cached login (`mqtt-oidc login --device` once at install),
 * refreshes the ID token when needed, exchanges it for a broker token and
 * connects with it (client id = the token's `sub`). Ahead of each expiry it
 * renews (refresh -> exchange) and reconnects with the new token before the
 * broker would cut the session, keeping unacknowledged QoS 1 messages; after
 * a broker restart or a network drop it reconnects with the current token.
 * A refusal ends the client with a typed error instead of a reconnect loop.
 * Rejects with `LoginRequired` when there is no usable login.
 *
 * @example
 * const client = await connect({
 *   issuer: 'http://localhost:4000', exchangeUrl: 'http://localhost:4001',
 *   broker: 'demo', brokerUrl: 'mqtt://localhost:1883', configDir: '/var/lib/gateway/mqtt-oidc',
 *   mqtt: { clean: false },
 *   onRefused: (err) => { console.error(err.code, err.message); process.exit(1) },
 * })
 * await client.publishAsync(`devices/${client.options.clientId}/up`, 'hello', { qos: 1 })
 */
export async function connect(options: ConnectOptions): Promise<MqttClient> {
  const store = options.tokenStore ?? (options.configDir === undefined ? undefined : createTokenStore(options.configDir))
  if (store === undefined) throw new TypeError('connect: give tokenStore or configDir')
  const config = await discoverIssuer(options.issuer, options.clientId ?? DEFAULT_CLIENT_ID, {
    cacheDir: dirname(store.path),
    fetchFrom: options.fetchFrom?.issuer,
  })
  const getToken = async (): Promise<BrokerToken> => {
    const subjectToken = await getIdToken(config, store)
    return exchangeToken({ exchangeUrl: options.exchangeUrl, fetchFrom: options.fetchFrom?.exchange, broker: options.broker, subjectToken })
  }
  return connectWithToken({
    brokerUrl: options.brokerUrl,
    getToken,
    // getToken above hands out BrokerTokens only
    onRenewed: (t: ConnectToken) => options.onRenewed?.(t),
    mqtt: options.mqtt,
    maxReconnectPeriod: options.maxReconnectPeriod,
    sendUsername: options.sendUsername,
    renewBeforeSeconds: options.renewBeforeSeconds,
    onRenewError: options.onRenewError,
    onRefused: options.onRefused,
    isRevoked: (t: ConnectToken) => fetchTokenRevoked(options.exchangeUrl, options.broker, t.token, undefined, options.fetchFrom?.exchange),
  })
}
