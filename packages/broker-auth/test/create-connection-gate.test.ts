import { connect, createServer } from 'node:net'
import type { AddressInfo, Server, Socket } from 'node:net'
import { Aedes } from 'aedes'
import type { Client } from 'aedes'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createConnectionGate, createConnectThrottle } from '../src/index.js'
import type { ConnectionGate } from '../src/index.js'

// aedes accepting everyone, behind the gate, with a budget of one failed CONNECT per address
let aedes: Aedes
let gate: ConnectionGate
let server: Server
let port: number
const CONNECT = Buffer.from([0x10, 0x0d, 0, 4, 0x4d, 0x51, 0x54, 0x54, 4, 0x02, 0, 0, 0, 1, 0x63])

/** Connects from `localAddress`; resolves with the first 4 bytes received, or [] if closed first. */
function connectFrom(localAddress: string, send = CONNECT): Promise<number[]> {
  return new Promise((resolve) => {
    // nothing to send: connect and hang up at once, as a TCP health check does
    const socket: Socket = connect({ port, host: '127.0.0.1', localAddress }, () => (send.length > 0 ? socket.write(send) : socket.destroy()))
    let got: number[] = []
    socket.on('data', (chunk: Buffer) => {
      got = [...got, ...chunk]
      if (got.length >= 4) socket.destroy()
    })
    socket.on('error', () => {})
    socket.on('close', () => resolve(got.slice(0, 4)))
  })
}

/** A real aedes client connected from `localAddress`. */
async function clientFrom(localAddress: string): Promise<Client> {
  const ready = new Promise<Client>((resolve) => aedes.once('clientReady', resolve))
  const socket = connect({ port, host: '127.0.0.1', localAddress }, () => socket.write(CONNECT))
  socket.on('error', () => {})
  return ready
}

beforeEach(async () => {
  aedes = await Aedes.createBroker()
  gate = createConnectionGate(aedes, { throttle: createConnectThrottle({ maxFailures: 1, holdMs: 60_000 }) })
  server = createServer((socket) => gate.accept(socket))
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  port = (server.address() as AddressInfo).port
})
afterEach(async () => {
  await new Promise<void>((resolve) => aedes.close(() => resolve()))
  await new Promise<void>((resolve) => server.close(() => resolve()))
})

describe('createConnectionGate', () => {
  it('counts refused CONNECTs against their address and holds it off past the budget', async () => {
    for (const _ of [1, 2]) gate.refused('ERR_TOKEN_REVOKED', await clientFrom('127.0.0.21'))
    expect(await connectFrom('127.0.0.21')).toEqual([])
    expect(await connectFrom('127.0.0.22')).toEqual([0x20, 0x02, 0x00, 0x00])
  })

  it("does not count a refusal that is the server's fault (CONNACK 3)", async () => {
    for (const _ of [1, 2, 3]) gate.refused('ERR_REVOCATIONS_UNAVAILABLE', await clientFrom('127.0.0.23'))
    expect(await connectFrom('127.0.0.23')).toEqual([0x20, 0x02, 0x00, 0x00])
  })

  it('does not count connections that close without a word (health checks, port probes)', async () => {
    for (const _ of [1, 2, 3]) expect(await connectFrom('127.0.0.24', Buffer.alloc(0))).toEqual([])
    expect(await connectFrom('127.0.0.24')).toEqual([0x20, 0x02, 0x00, 0x00])
  })

  it('counts a malformed CONNECT', async () => {
    for (const _ of [1, 2]) expect(await connectFrom('127.0.0.25', Buffer.from([0x10, 0x02, 0xff, 0xff]))).toEqual([])
    expect(await connectFrom('127.0.0.25')).toEqual([])
    expect(gate.admits('127.0.0.25')).toBe(false)
  })
})
