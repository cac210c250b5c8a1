import type { Duplex } from 'node:stream'

export interface PacketSizeLimits {
  /** Largest first packet (the CONNECT, read before any authentication), in bytes of remaining length. */
  readonly maxConnectBytes: number
  /** Largest packet after it, in bytes of remaining length. */
  readonly maxPacketBytes: number
}

/** Why a connection was cut: the packet declared more than the limit, or its length field was malformed. */
export interface PacketSizeViolation {
  /** The declared remaining length (NaN for a malformed length field). */
  readonly declared: number
  readonly limit: number
  /** Whether it was the first packet (the CONNECT). */
  readonly first: boolean
  /** Bytes read from the connection so far. */
  readonly bytesRead: number
}

/** MQTT's variable byte integer has at most four bytes (§1.5.5). */
const MAX_LENGTH_BYTES = 4

/**
 * Watches the MQTT framing of a connection and calls `onViolation` as soon
 * as a packet's fixed header declares a remaining length above the limit,
 * before its body is read. aedes' parser (mqtt-packet) buffers a packet
 * until all the bytes it declared have arrived, with no ceiling: a CONNECT
 * claiming 256 MB would be held in memory before anyone is authenticated.
 * The caller destroys the connection.
 *
 * It listens to `data`, which a stream read in paused mode (aedes calls
 * `read()` on `readable`) emits for each chunk `read()` returns, so it sees
 * every byte in order without changing how aedes reads. Packets after the
 * CONNECT are not read until aedes has authenticated it (it pauses the
 * connection meanwhile), so they get the larger limit.
 */
export function guardPacketSizes(stream: Duplex, limits: PacketSizeLimits, onViolation: (v: PacketSizeViolation) => void): void {
  let inHeader = true // expecting a packet's first byte
  let lengthBytes = 0 // length bytes read of the current packet
  let length = 0
  let bodyLeft = 0
  let packets = 0
  let bytesRead = 0
  let stopped = false

  stream.on('data', (chunk: Buffer) => {
    if (stopped) return
    bytesRead += chunk.length
    let i = 0
    while (i < chunk.length) {
      if (bodyLeft > 0) {
        const skip = Math.min(bodyLeft, chunk.length - i)
        bodyLeft -= skip
        i += skip
        continue
      }
      if (inHeader) {
        inHeader = false
        lengthBytes = 0
        length = 0
        i++
        continue
      }
      const byte = chunk[i++] as number
      length += (byte & 0x7f) * 128 ** lengthBytes
      lengthBytes++
      const first = packets === 0
      const limit = first ? limits.maxConnectBytes : limits.maxPacketBytes
      if (byte & 0x80) {
        if (lengthBytes < MAX_LENGTH_BYTES) continue
        stopped = true
        return onViolation({ declared: Number.NaN, limit, first, bytesRead })
      }
      if (length > limit) {
        stopped = true
        return onViolation({ declared: length, limit, first, bytesRead })
      }
      packets++
      bodyLeft = length
      inHeader = true
    }
  })
}
