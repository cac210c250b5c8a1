import { connect } from 'node:net'
import type { Socket } from 'node:net'
import { rawConnect } from '@mqtt-oidc/test-support/raw-mqtt'

/** An MQTT 3.1.1 CONNECT (clean session, keepalive 0 = never pinged) with username and password. */
export function connectPacket(clientId: string, username: string, password: string): Buffer {
  return rawConnect({ clientId, username, password })
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
