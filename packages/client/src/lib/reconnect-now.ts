import type { MqttClient } from 'mqtt'

/** An MQTT DISCONNECT packet (3.1.1 and 5: remaining length 0 = reason "normal disconnection"). */
const DISCONNECT = Buffer.from([0xe0, 0x00])

/** How long to wait for the broker to close after our DISCONNECT before dropping the socket ourselves. */
const CLOSE_TIMEOUT_MS = 5_000

/**
 * Replaces a live connection with a new one right now, so the next CONNECT
 * (built from `client.options`) presents the renewed token before the broker
 * cuts the old session at its expiry.
 *
 * mqtt.js's own `client.reconnect()` would first `end()` the client, which
 * rejects publishes made meanwhile and, without arguments, starts empty
 * message stores. Instead this sends DISCONNECT and half-closes the stream,
 * so mqtt.js sees an ordinary connection loss: unacknowledged QoS 1/2
 * messages stay in its outgoing store (resent, DUP set, after the next
 * CONNACK) and publishes made while offline are stored for sending. Once the
 * stream has closed, it reconnects at once with the same stores instead of
 * waiting `reconnectPeriod`.
 */
export function reconnectNow(client: MqttClient): void {
  const stream = client.stream
  if (!client.connected || client.disconnecting) return
  const timer = setTimeout(() => stream.destroy(), CLOSE_TIMEOUT_MS)
  timer.unref()
  client.once('close', () => {
    clearTimeout(timer)
    if (client.disconnecting || client.disconnected) return
    client.reconnect({ incomingStore: client.incomingStore, outgoingStore: client.outgoingStore })
  })
  // A planned switch, not an outage: mqtt.js emits 'offline' only when it was not already reconnecting.
  client.reconnecting = true
  stream.end(DISCONNECT)
}
