import { readFile } from 'node:fs/promises'
import { createServer as createHttpServer } from 'node:http'
import type { Server as HttpServer } from 'node:http'
import { createServer as createNetServer } from 'node:net'
import type { AddressInfo, Server as NetServer } from 'node:net'
import { createServer as createTlsServer } from 'node:tls'
import type { ConnectionGate } from '@mqtt-oidc/broker-auth'
import { createWebSocketStream, WebSocketServer } from 'ws'

/** Closable servers, closed together. */
export type Closable = NetServer | HttpServer | WebSocketServer

/** Binds and resolves with the bound port (0 = any free port). */
export function bind(server: NetServer | HttpServer, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error): void => reject(err)
    server.once('error', onError)
    server.listen(port, host, () => {
      server.off('error', onError)
      resolve((server.address() as AddressInfo).port)
    })
  })
}

/** MQTT over TCP; every connection passes the gate (hold-off, packet sizes) into aedes. */
export function tcpListener(gate: ConnectionGate): NetServer {
  return createNetServer({ noDelay: true }, (socket) => gate.accept(socket))
}

/** MQTT over TLS, with the PEM certificate chain and key read from files. */
export async function tlsListener(gate: ConnectionGate, certPath: string, keyPath: string): Promise<NetServer> {
  const [cert, key] = await Promise.all([readFile(certPath), readFile(keyPath)])
  return createTlsServer({ cert, key, minVersion: 'TLSv1.2' }, (socket) => gate.accept(socket))
}

/**
 * MQTT over WebSocket at `/mqtt` (anything else: 426). A held-off address gets 429 at the
 * upgrade; a WebSocket message may not exceed the largest packet plus its fixed header (ws
 * buffers a whole message before anyone reads it; its own default is 100 MiB).
 */
export function wsListener(gate: ConnectionGate): { http: HttpServer; wss: WebSocketServer } {
  const http = createHttpServer((_req, res) => res.writeHead(426, { 'content-type': 'text/plain' }).end('MQTT over WebSocket at /mqtt\n'))
  const wss = new WebSocketServer({
    server: http,
    path: '/mqtt',
    maxPayload: gate.limits.maxPacketBytes + 5,
    verifyClient: (info, done) => (gate.admits(info.req.socket.remoteAddress) ? done(true) : done(false, 429)),
  })
  wss.on('connection', (ws, req) => gate.acceptStream(createWebSocketStream(ws), req))
  return { http, wss }
}

/** Closes every server (open HTTP connections are cut). */
export async function closeAll(servers: readonly Closable[]): Promise<void> {
  await Promise.all(servers.map((s) => new Promise<void>((resolve) => {
    s.close(() => resolve())
    if ('closeAllConnections' in s) s.closeAllConnections()
  })))
}
