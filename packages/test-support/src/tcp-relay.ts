import { connect as netConnect, createServer } from 'node:net'
import type { AddressInfo, Socket } from 'node:net'

export interface TcpRelay {
  /** `http://127.0.0.1:<port>` of the relay. */
  readonly url: string
  readonly port: number
  /** Connections accepted so far (a reconnecting client shows up here). */
  readonly accepted: number
  /** A network outage: drops every connection and refuses new ones until `restore()`. */
  cut(): void
  restore(): void
  /**
   * A silent failure: every open connection stops carrying bytes, both ways,
   * and never recovers (as when a NAT or firewall forgets a connection);
   * new connections work. Only a client's own idle timeout can notice.
   */
  stallOpenConnections(): number
  close(): Promise<void>
}

/**
 * A TCP relay on 127.0.0.1 in front of one or more backends (ports): each new
 * connection goes to the next backend in turn, and to the one after if that
 * one refuses (a load balancer's failover). It can cut the network or stall
 * its open connections: the network faults of the soak and of tests.
 */
export async function startTcpRelay(backends: readonly number[]): Promise<TcpRelay> {
  const live = new Map<Socket, { upstream: Socket | undefined; stalled: boolean }>()
  let next = 0
  let accepted = 0
  let cut = false
  const server = createServer((client) => {
    if (cut) return void client.destroy()
    accepted += 1
    const entry: { upstream: Socket | undefined; stalled: boolean } = { upstream: undefined, stalled: false }
    live.set(client, entry)
    client.on('error', () => client.destroy())
    client.on('close', () => {
      live.delete(client)
      entry.upstream?.destroy()
    })
    client.pause()
    const first = next++ % backends.length
    const attempt = (k: number): void => {
      if (k >= backends.length || client.destroyed) return void client.destroy()
      const upstream = netConnect(backends[(first + k) % backends.length]!, '127.0.0.1')
      upstream.once('error', () => {
        if (upstream.connecting || !entry.upstream) attempt(k + 1)
        else client.destroy()
      })
      upstream.once('connect', () => {
        entry.upstream = upstream
        upstream.on('error', () => client.destroy())
        upstream.on('close', () => client.destroy())
        if (entry.stalled) return
        client.pipe(upstream)
        upstream.pipe(client)
        client.resume()
      })
    }
    attempt(0)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as AddressInfo).port
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    get accepted() {
      return accepted
    },
    cut() {
      cut = true
      for (const client of [...live.keys()]) client.destroy()
    },
    restore() {
      cut = false
    },
    stallOpenConnections() {
      for (const [client, entry] of live) {
        if (entry.stalled) continue
        entry.stalled = true
        client.unpipe()
        entry.upstream?.unpipe()
        client.pause()
        entry.upstream?.pause()
      }
      return live.size
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const client of [...live.keys()]) client.destroy()
        server.close(() => resolve())
      }),
  }
}
