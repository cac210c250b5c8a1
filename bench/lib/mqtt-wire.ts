import { connect } from 'node:net'
import type { Socket } from 'node:net'

function utf8Field(text: string): Buffer {
  const bytes = Buffer.from(text, 'utf8')
  const len = Buffer.alloc(2)
  len.writeUInt16BE(bytes.length)
  return Buffer.concat([len, bytes])
}

function remainingLength(n: number): Buffer {
  const out: number[] = []
  do {
    let byte = n % 128
    n = Math.floor(n / 128)
    if (n > 0) byte |= 0x80
    out.push(byte)
  } while (n > 0)
  return Buffer.from(out)
}

/** An MQTT 3.1.1 CONNECT (clean session, keepalive 0 = never pinged) with username and password. */
export function connectPacket(clientId: string, username: string, password: string): Buffer {
  const variable = Buffer.from([0, 4, 0x4d, 0x51, 0x54, 0x54, 4, 0x80 | 0x40 | 0x02, 0, 0])
  const payload = Buffer.concat([utf8Field(clientId), utf8Field(username), utf8Field(password)])
  const body = Buffer.concat([variable, payload])
  return Buffer.concat([Buffer.from([0x10]), remainingLength(body.length), body])
}

export const DISCONNECT = Buffer.from([0xe0, 0x00])

/** Opens a TCP connection, sends CONNECT and resolves with the CONNACK return code and the open socket. */
export function mqttConnect(port: number, packet: Buffer): Promise<{ code: number; socket: Socket }> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host: '127.0.0.1', noDelay: true }, () => socket.write(packet))
    let got = Buffer.alloc(0)
    const onData = (chunk: Buffer): void => {
      got = Buffer.concat([got, chunk])
      if (got.length < 4) return
      socket.off('data', onData)
      if (got[0] !== 0x20) return reject(new Error(`expected CONNACK, got 0x${got[0]?.toString(16)}`))
      resolve({ code: got[3] ?? -1, socket })
    }
    socket.on('data', onData)
    socket.once('error', reject)
    socket.once('close', () => reject(new Error('closed before CONNACK')))
  })
}
