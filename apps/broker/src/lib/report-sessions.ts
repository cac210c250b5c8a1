import type { Socket } from 'node:net'
import type { Client } from 'aedes'
import type { SessionObserver, SessionReporter } from '@mqtt-oidc/broker-auth'

/**
 * The aedes side of session reporting: each authenticated session's start
 * and end, with the client's address (a TCP or TLS socket's, or the
 * WebSocket upgrade request's), goes to the reporter.
 */
export function reportSessions(reporter: SessionReporter): SessionObserver<Client> {
  return {
    started(client, session) {
      reporter.connected(client, {
        clientId: session.clientid,
        username: session.username ?? null,
        jti: session.jti,
        connectedAt: Math.floor(Date.now() / 1000),
        expiresAt: session.exp ?? null,
        remoteAddress: (client.conn as Partial<Socket>).remoteAddress ?? client.req?.socket.remoteAddress ?? null,
      })
    },
    ended(client) {
      reporter.disconnected(client)
    },
  }
}
