import type { IncomingMessage } from 'node:http'
import type { Socket } from 'node:net'
import type { Duplex } from 'node:stream'
import type { Aedes, Client } from 'aedes'
import { REFUSALS } from '@mqtt-oidc/core'
import type { ErrorCode } from '@mqtt-oidc/core'
import type { ConnectThrottle } from './create-connect-throttle.js'
import { guardPacketSizes } from './guard-packet-sizes.js'
import type { PacketSizeLimits, PacketSizeViolation } from './guard-packet-sizes.js'
import type { LogFn } from './types.js'

/** Largest CONNECT read before authentication, bytes: a broker token is at most 8 KiB; this leaves room for a will. */
export const DEFAULT_MAX_CONNECT_BYTES = 65_536
/** Largest packet after authentication, bytes (EMQX's default too). */
export const DEFAULT_MAX_PACKET_BYTES = 1_048_576

export interface ConnectionGateOptions {
  /** Packet size limits. Default `DEFAULT_MAX_CONNECT_BYTES` and `DEFAULT_MAX_PACKET_BYTES`. */
  limits?: Partial<PacketSizeLimits>
  /** The per-address budget of failed CONNECTs. Default: none. */
  throttle?: ConnectThrottle
  log?: LogFn
}

export interface ConnectionGate {
  readonly limits: PacketSizeLimits
  /** Takes a new TCP or TLS connection: refused at once while its address is held off, else guarded and handed to aedes. */
  accept(socket: Socket): void
  /** Takes a WebSocket stream (after `admits` let its upgrade through). */
  acceptStream(stream: Duplex, req: IncomingMessage): void
  /** Whether a new connection from this address is welcome (for a WebSocket upgrade). */
  admits(address: string | undefined): boolean
  /** Counts a refused CONNECT against its address (attachAedesAuth's `onConnect`). */
  refused(code: string, client: Client): void
}

/**
 * What stands between a new connection and aedes: the per-address hold-off,
 * the packet size guard, and the count of failed CONNECTs that feeds the
 * hold-off (refused tokens and protocol violations, CONNECTs too large or
 * too late; never a refusal that is the server's fault, CONNACK 3, and
 * never a connection that merely closed, such as a health check).
 *
 * @example
 * const gate = createConnectionGate(aedes, { throttle: createConnectThrottle(), log })
 * attachAedesAuth(aedes, { verifier, onConnect: (code, client) => code && gate.refused(code, client) })
 * net.createServer((socket) => gate.accept(socket))
 */
export function createConnectionGate(aedes: Aedes, options: ConnectionGateOptions = {}): ConnectionGate {
  const limits: PacketSizeLimits = {
    maxConnectBytes: options.limits?.maxConnectBytes ?? DEFAULT_MAX_CONNECT_BYTES,
    maxPacketBytes: options.limits?.maxPacketBytes ?? DEFAULT_MAX_PACKET_BYTES,
  }
  const log: LogFn = options.log ?? (() => {})
  const throttle = options.throttle
  // a failing connection is counted once, whichever of its errors comes first
  const counted = new WeakSet<object>()

  function fail(conn: object, address: string | undefined, why: string): void {
    if (!throttle || address === undefined || counted.has(conn)) return
    counted.add(conn)
    const hold = throttle.fail(address)
    if (hold > 0) log('warn', 'failed CONNECTs over the per-address budget: new connections held off', { address, hold_ms: hold, last: why })
  }

  function guard(conn: Duplex, address: string | undefined): void {
    guardPacketSizes(conn, limits, (v: PacketSizeViolation) => {
      log('warn', 'connection closed: packet too large', {
        code: 'ERR_INVALID_REQUEST',
        address,
        declared: Number.isNaN(v.declared) ? 'malformed' : v.declared,
        limit: v.limit,
        packet: v.first ? 'CONNECT' : 'after CONNECT',
        bytes_read: v.bytesRead,
      })
      conn.destroy()
      fail(conn, address, 'packet too large')
    })
  }

  function admits(address: string | undefined): boolean {
    const held = address === undefined || !throttle ? 0 : throttle.heldFor(address)
    if (held > 0) log('debug', 'connection refused: address held off', { address, held_ms: held })
    return held === 0
  }

  // Errors before a CONNECT was handled: timeouts, malformed packets, oversized WebSocket
  // messages. A failed system call (ECONNRESET from a health check or port probe) is the
  // peer going away, nobody's failed CONNECT.
  aedes.on('connectionError', (client: Client, err: Error & { syscall?: unknown }) => {
    if (typeof err.syscall === 'string') return
    fail(client.conn, addressOf(client), err.message)
  })

  return {
    limits,
    accept(socket) {
      // read once here: net caches it, so it is still known after the socket is gone
      const address = socket.remoteAddress
      if (!admits(address)) return void socket.destroy()
      aedes.handle(socket)
      guard(socket, address)
    },
    acceptStream(stream, req) {
      aedes.handle(stream, req)
      guard(stream, req.socket.remoteAddress)
    },
    admits,
    refused(code, client) {
      if (REFUSALS[code as ErrorCode]?.connack === 3) return
      fail(client.conn, addressOf(client), code)
    },
  }
}

function addressOf(client: Client): string | undefined {
  return (client.conn as Partial<Socket>).remoteAddress ?? client.req?.socket.remoteAddress
}
