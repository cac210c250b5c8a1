import { connect } from '@mqtt-oidc/client'
import type { BrokerRefusal, BrokerToken } from '@mqtt-oidc/client'
import type { MqttClient, Packet } from 'mqtt'

/** What a gateway tells the run about itself, as it happens. */
export interface GatewayEvents {
  /** A CONNACK arrived for the CONNECT that presented `jti`; `latencyMs` from CONNECT sent. */
  connack(g: Gateway, returnCode: number, jti: string | undefined, latencyMs: number): void
  /** The connection that was accepted with `jti` closed; `renewal`: the client closed it to switch to a renewed token. */
  closed(g: Gateway, jti: string | undefined, renewal: boolean): void
  renewed(g: Gateway, token: BrokerToken): void
  renewError(g: Gateway, err: unknown): void
  /** The library ended the client on a refusal; the run decides whether that was expected. */
  refused(g: Gateway, err: BrokerRefusal, jti: string | undefined): void
  /** connect() itself failed (first connect of a (re)start). */
  startFailed(g: Gateway, err: unknown): void
}

export interface GatewaySettings {
  readonly index: number
  readonly issuer: string
  readonly exchangeUrl: string
  readonly broker: string
  readonly brokerUrl: string
  /** The login's cache (`mqtt-oidc login --config-dir`). */
  readonly configDir: string
}

/** A reading the broker acknowledged: when it was handed to the client and when its PUBACK came. */
export interface Acked {
  readonly sentAt: number
  readonly ackAt: number
}

const jtiOf = (password: unknown): string | undefined => {
  const token = Buffer.isBuffer(password) ? password.toString() : typeof password === 'string' ? password : ''
  try {
    const payload = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString()) as { jti?: unknown }
    return typeof payload.jti === 'string' ? payload.jti : undefined
  } catch {
    return undefined
  }
}

/**
 * One gateway of the fleet: the client library's `connect()` with the
 * login made at install, publishing numbered QoS 1 readings; it records
 * which token each connection presented, and every acknowledged reading.
 * After a refusal (its token was revoked) it starts again, as a gateway's
 * supervisor would: the library ends the client, the process restarts.
 */
export class Gateway {
  client: MqttClient | undefined
  clientId = ''
  /** jti of the token the open connection was accepted with. */
  connectedJti: string | undefined
  /** Epoch ms at which the open connection was accepted. */
  connectedSince = 0
  /** The token currently in hand (renewed or first). */
  token: BrokerToken | undefined
  seq = 0
  readonly acked = new Map<number, Acked>()
  renewals = 0
  starts = 0
  #sentConnectAt = 0
  #pendingJti: string | undefined
  #stopped = false
  /** A renewal has replaced the token and the library is closing the connection to switch. */
  #switching = false

  constructor(
    readonly settings: GatewaySettings,
    private readonly events: GatewayEvents,
  ) {}

  get index(): number {
    return this.settings.index
  }

  get connected(): boolean {
    return this.client?.connected === true
  }

  /** Connects (again); resolves once the first CONNACK accepted it, rejects as connect() does. */
  async start(): Promise<void> {
    this.starts += 1
    const s = this.settings
    const client = await connect({
      issuer: s.issuer,
      exchangeUrl: s.exchangeUrl,
      broker: s.broker,
      brokerUrl: s.brokerUrl,
      configDir: s.configDir,
      mqtt: { reconnectPeriod: 1000, connectTimeout: 10_000 },
      onRenewed: (t) => {
        // the library has just begun replacing the open connection (reconnectNow), if there was one
        this.#switching = this.client?.connected === true
        this.token = t
        this.renewals += 1
        this.events.renewed(this, t)
      },
      onRenewError: (err) => this.events.renewError(this, err),
      onRefused: (err) => {
        this.connectedJti = undefined
        this.events.refused(this, err, this.#pendingJti)
      },
    }).catch((err: unknown) => {
      this.events.startFailed(this, err)
      throw err
    })
    if (this.#stopped) {
      await client.endAsync(true)
      return
    }
    this.client = client
    this.clientId = String(client.options.clientId)
    // the CONNECT that the first CONNACK answered has gone by: record it as this one's
    this.connectedJti = jtiOf(client.options.password)
    this.connectedSince = Date.now()
    client.on('packetsend', (p: Packet) => {
      if (p.cmd !== 'connect') return
      this.#sentConnectAt = Date.now()
      this.#pendingJti = jtiOf(p.password)
    })
    client.on('packetreceive', (p: Packet) => {
      if (p.cmd !== 'connack') return
      const rc = p.returnCode ?? 0
      if (rc === 0) {
        this.connectedJti = this.#pendingJti
        this.connectedSince = Date.now()
      }
      this.events.connack(this, rc, this.#pendingJti, Date.now() - this.#sentConnectAt)
    })
    client.on('close', () => {
      const jti = this.connectedJti
      const renewal = this.#switching
      this.connectedJti = undefined
      this.#switching = false
      if (jti !== undefined) this.events.closed(this, jti, renewal)
    })
    client.on('error', () => undefined)
  }

  /** Publishes the next reading at QoS 1 (stored by mqtt.js while offline). */
  publish(): void {
    const client = this.client
    if (!client || client.disconnecting || client.disconnected) return
    const seq = this.seq++
    const sentAt = Date.now()
    client.publish(`devices/${this.clientId}/telemetry`, JSON.stringify({ g: this.index, seq }), { qos: 1 }, (err) => {
      if (!err) this.acked.set(seq, { sentAt, ackAt: Date.now() })
    })
  }

  /** The client ended after a refusal: forget it (its unacknowledged readings were never acknowledged). */
  dropClient(): void {
    this.client = undefined
    this.connectedJti = undefined
  }

  async stop(): Promise<void> {
    this.#stopped = true
    await this.client?.endAsync(true)
  }
}
