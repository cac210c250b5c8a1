import { connect } from 'node:net'
import type { Socket } from 'node:net'

/** The fields of an MQTT 3.1.1 CONNECT, written exactly as given (also what clients refuse to send). */
export interface RawConnect {
  readonly clientId: string
  /** CleanSession flag. Default true. */
  readonly clean?: boolean
  /** Present = user name flag set. */
  readonly username?: string
  /** Present = password flag set (with or without a user name). */
  readonly password?: string
  readonly will?: { readonly topic: string; readonly payload: string; readonly qos?: 0 | 1 }
  /** Keep alive, seconds. Default 0. */
  readonly keepalive?: number
}

function field(bytes: Buffer): Buffer {
  const len = Buffer.alloc(2)
  len.writeUInt16BE(bytes.length)
  return Buffer.concat([len, bytes])
}

/** The variable-byte remaining length (MQTT 3.1.1 §2.2.3), up to 268,435,455. */
export function remainingLength(n: number): Buffer {
  const out: number[] = []
  do {
    let byte = n % 128
    n = Math.floor(n / 128)
    if (n > 0) byte |= 0x80
    out.push(byte)
  } while (n > 0)
  return Buffer.from(out)
}

/** A CONNECT packet (MQTT 3.1.1) built byte by byte, so flags the spec forbids can be set. */
export function rawConnect(c: RawConnect): Buffer {
  let flags = c.clean === false ? 0 : 0x02
  if (c.will) flags |= 0x04 | ((c.will.qos ?? 0) << 3)
  if (c.username !== undefined) flags |= 0x80
  if (c.password !== undefined) flags |= 0x40
  const keepalive = Buffer.alloc(2)
  keepalive.writeUInt16BE(c.keepalive ?? 0)
  const parts = [Buffer.from([0, 4, 0x4d, 0x51, 0x54, 0x54, 4, flags]), keepalive, field(Buffer.from(c.clientId))]
  if (c.will) parts.push(field(Buffer.from(c.will.topic)), field(Buffer.from(c.will.payload)))
  if (c.username !== undefined) parts.push(field(Buffer.from(c.username)))
  if (c.password !== undefined) parts.push(field(Buffer.from(c.password)))
  const body = Buffer.concat(parts)
  return Buffer.concat([Buffer.from([0x10]), remainingLength(body.length), body])
}

export interface RawSession {
  readonly socket: Socket
  /** Everything the broker sent until now. */
  received(): Buffer
  /** Resolves with everything the broker sent once it closed the connection. */
  readonly closed: Promise<Buffer>
  /** Resolves once at least `n` bytes arrived. */
  bytes(n: number): Promise<Buffer>
}

/** Opens a raw TCP connection to the broker (optionally from another loopback address) and records what comes back. */
export function openRaw(port: number, options: { localAddress?: string } = {}): Promise<RawSession> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host: '127.0.0.1', localAddress: options.localAddress, noDelay: true })
    let got = Buffer.alloc(0)
    const waiters: Array<{ n: number; resolve: (b: Buffer) => void }> = []
    socket.on('data', (chunk: Buffer) => {
      got = Buffer.concat([got, chunk])
      for (const w of [...waiters]) {
        if (got.length >= w.n) {
          waiters.splice(waiters.indexOf(w), 1)
          w.resolve(got)
        }
      }
    })
    socket.on('error', () => {}) // a reset is one way of being closed; `closed` reports it
    const closed = new Promise<Buffer>((done) => socket.once('close', () => done(got)))
    socket.once('connect', () =>
      resolve({
        socket,
        received: () => got,
        closed,
        bytes: (n) => (got.length >= n ? Promise.resolve(got) : new Promise((done) => waiters.push({ n, resolve: done }))),
      }),
    )
    socket.once('error', reject)
  })
}
