import { createServer } from 'node:net'
import type { AddressInfo, Socket } from 'node:net'

/**
 * Just enough of an MQTT 5 server to test CONNECT/CONNACK handling (none of
 * the brokers in this test environment speaks MQTT 5: aedes and Debian's
 * RabbitMQ 3.10 are MQTT 3.1.1 only). It reads one CONNECT, records its
 * protocol level and payload, and answers with an MQTT 5 CONNACK carrying
 * `reasonCode` (0 = accepted; the connection then stays open until the
 * client sends DISCONNECT or closes it).
 */
export interface Mqtt5Stub {
  readonly url: string
  /** Reason code of the next CONNACKs. Default 0 (success). */
  reasonCode: number
  /** Each CONNECT received: protocol level and the raw packet (to look for the client id and password). */
  readonly connects: Array<{ level: number; raw: Buffer }>
  close(): Promise<void>
}

export async function startMqtt5Stub(): Promise<Mqtt5Stub> {
  const sockets = new Set<Socket>()
  const server = createServer((socket) => {
    sockets.add(socket)
    socket.once('close', () => sockets.delete(socket))
    socket.on('error', () => undefined)
    let buffered = Buffer.alloc(0)
    let connected = false
    socket.on('data', (chunk: Buffer) => {
      if (connected) return // PINGREQ, DISCONNECT, ...: nothing to answer in these tests
      buffered = Buffer.concat([buffered, chunk])
      const packet = wholePacket(buffered)
      if (!packet) return
      connected = true
      // CONNECT: fixed header, remaining length, then "\0\4MQTT" and the protocol level.
      const level = packet.raw[packet.headerLength + 6] ?? 0
      self.connects.push({ level, raw: packet.raw })
      // MQTT 5 CONNACK: flags 0, reason code, properties length 0.
      socket.write(Buffer.from([0x20, 0x03, 0x00, self.reasonCode, 0x00]))
      if (self.reasonCode !== 0) socket.end()
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const self: Mqtt5Stub = {
    url: `mqtt://127.0.0.1:${(server.address() as AddressInfo).port}`,
    reasonCode: 0,
    connects: [],
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy()
        server.close(() => resolve())
      }),
  }
  return self
}

/** The first whole packet in `buf` (fixed header + variable-length remaining length), if it has arrived. */
function wholePacket(buf: Buffer): { raw: Buffer; headerLength: number } | undefined {
  let length = 0
  let multiplier = 1
  for (let i = 1; i <= 4 && i < buf.length; i++) {
    const byte = buf[i] ?? 0
    length += (byte & 0x7f) * multiplier
    multiplier *= 128
    if ((byte & 0x80) === 0) {
      const headerLength = i + 1
      return buf.length >= headerLength + length ? { raw: buf.subarray(0, headerLength + length), headerLength } : undefined
    }
  }
  return undefined
}
