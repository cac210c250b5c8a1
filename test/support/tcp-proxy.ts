import { connect as netConnect, createServer } from 'node:net'
import type { AddressInfo, Socket } from 'node:net'

/** Which side ended a proxied connection first. */
export type ClosedBy = 'client' | 'server' | 'proxy'

export interface TcpProxy {
  /** `mqtt://127.0.0.1:<port>` of the proxy. */
  readonly url: string
  /** How many proxied connections each side ended first. */
  readonly closedBy: Readonly<Record<ClosedBy, number>>
  /** Drops every connection and refuses new ones (a network outage) until `resume()`. */
  pause(): void
  resume(): void
  close(): Promise<void>
}

/**
 * A TCP proxy in front of a broker on 127.0.0.1:`targetPort`. It tells who
 * ended each connection first: the client (a DISCONNECT and FIN, as a
 * proactive reconnect does) or the server (the broker cutting a session),
 * and it can simulate a network outage.
 */
export async function startTcpProxy(targetPort: number): Promise<TcpProxy> {
  const closedBy: Record<ClosedBy, number> = { client: 0, server: 0, proxy: 0 }
  const live = new Set<() => void>()
  let paused = false
  const server = createServer((down) => {
    if (paused) return void down.destroy()
    const up = netConnect(targetPort, '127.0.0.1')
    let first: ClosedBy | undefined
    const mark = (who: ClosedBy): void => {
      if (first !== undefined) return
      first = who
      closedBy[who] += 1
    }
    const drop = (): void => {
      mark('proxy')
      down.destroy()
      up.destroy()
    }
    live.add(drop)
    const ends = (a: Socket, b: Socket, who: ClosedBy): void => {
      a.on('end', () => mark(who))
      a.on('error', () => {
        mark(who)
        b.destroy()
      })
      a.on('close', () => {
        mark(who)
        b.destroy()
        live.delete(drop)
      })
    }
    ends(down, up, 'client')
    ends(up, down, 'server')
    down.pipe(up)
    up.pipe(down)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    url: `mqtt://127.0.0.1:${(server.address() as AddressInfo).port}`,
    closedBy,
    pause() {
      paused = true
      for (const drop of [...live]) drop()
    },
    resume() {
      paused = false
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const drop of [...live]) drop()
        server.close(() => resolve())
      }),
  }
}
