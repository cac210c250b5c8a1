import { connect } from 'mqtt'
import type { MqttClient, Packet } from 'mqtt'

/**
 * The last connection attempt of an observer, as its client saw it: when it sent CONNECT and when
 * the CONNACK came (none: the broker never answered, and mqtt.js gave up after its connectTimeout).
 */
export function lastAttempt(client: MqttClient): () => string {
  let sentAt: number | undefined
  let connackAt: number | undefined
  client.on('packetsend', (p: Packet) => {
    if (p.cmd !== 'connect') return
    sentAt = Date.now()
    connackAt = undefined
  })
  client.on('packetreceive', (p: Packet) => {
    if (p.cmd === 'connack') connackAt = Date.now()
  })
  return () => {
    if (sentAt === undefined) return 'no CONNECT sent yet'
    const ago = `${((Date.now() - sentAt) / 1000).toFixed(1)} s ago`
    return connackAt === undefined ? `its last CONNECT (${ago}) got no CONNACK` : `its last CONNECT (${ago}) got its CONNACK after ${connackAt - sentAt} ms`
  }
}

/** When the backend's subscription was not in place: from its connection's close to the next SUBACK. */
export interface AwayWindow {
  readonly from: number
  until: number | undefined
}

/**
 * The backend: a client nobody here wrote (plain mqtt.js) with an
 * admin-issued credential (ACL `#`), subscribed at QoS 1 to every gateway's
 * readings, with a persistent session (`clean: false`). It records every
 * reading it receives, by gateway and sequence number, and when its
 * subscription was not in place.
 */
export class Backend {
  readonly received = new Map<number, Set<number>>()
  readonly away: AwayWindow[] = []
  subscribed = false
  readonly client: MqttClient

  constructor(
    brokerUrl: string,
    clientId: string,
    token: string,
    private readonly onConnack: (rc: number) => void,
  ) {
    this.client = connect(brokerUrl, { clientId, username: '', password: token, clean: false, reconnectPeriod: 500, connectTimeout: 10_000 })
    this.client.on('error', () => undefined)
    this.client.on('packetreceive', (p: Packet) => {
      if (p.cmd === 'connack') this.onConnack(p.returnCode ?? 0)
    })
    this.client.on('connect', () => {
      this.client.subscribe('devices/+/telemetry', { qos: 1 }, (err) => {
        if (err) return
        this.subscribed = true
        const last = this.away.at(-1)
        if (last && last.until === undefined) last.until = Date.now()
      })
    })
    this.client.on('close', () => {
      if (this.subscribed) this.away.push({ from: Date.now(), until: undefined })
      this.subscribed = false
    })
    this.client.on('message', (_topic, payload) => {
      try {
        const { g, seq } = JSON.parse(payload.toString()) as { g: number; seq: number }
        let set = this.received.get(g)
        if (!set) this.received.set(g, (set = new Set()))
        set.add(seq)
      } catch {
        // not a reading
      }
    })
  }

  /** Whether a reading handed to its gateway at `sentAt` and acknowledged at `ackAt` overlaps a time the backend was away (± `marginMs`). */
  wasAway(sentAt: number, ackAt: number, marginMs: number): boolean {
    return this.away.some((w) => sentAt <= (w.until ?? Infinity) + marginMs && ackAt >= w.from - marginMs)
  }

  close(): Promise<void> {
    return this.client.endAsync(true)
  }
}

/**
 * An idle client: connected with an admin-issued credential and silent
 * (mqtt.js keepalive pings only), for the whole run. The broker must never
 * cut it off, except when it restarts.
 */
export class IdleClient {
  readonly client: MqttClient

  constructor(brokerUrl: string, clientId: string, token: string, onConnack: (rc: number) => void) {
    this.client = connect(brokerUrl, { clientId, username: '', password: token, reconnectPeriod: 500, connectTimeout: 10_000 })
    this.client.on('error', () => undefined)
    this.client.on('packetreceive', (p: Packet) => {
      if (p.cmd === 'connack') onConnack(p.returnCode ?? 0)
    })
  }

  close(): Promise<void> {
    return this.client.endAsync(true)
  }
}
