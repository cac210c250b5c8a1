import type { EmqxSessionObserver, SessionReporter } from '@mqtt-oidc/broker-auth'

export interface EmqxSessionReports extends EmqxSessionObserver {
  /** Forgets the sessions whose token expired (EMQX disconnects them at `expire_at`). */
  sweep(nowSeconds: number): void
}

/**
 * What the EMQX hook can report: the sessions it authenticated (client id,
 * username, jti, token expiry, EMQX's `peerhost`), each gone when its jti is
 * revoked, its token expires, or the client id authenticates again. EMQX
 * does not tell an HTTP authenticator of ordinary disconnects, so a client
 * that left stays listed until its token expires.
 */
export function createEmqxSessionReports(reporter: SessionReporter): EmqxSessionReports {
  // One key object per client id: EMQX holds one session per client id.
  const held = new Map<string, { readonly key: object; readonly exp: number | undefined }>()
  const ended = (clientId: string): void => {
    const entry = held.get(clientId)
    if (!entry) return
    held.delete(clientId)
    reporter.disconnected(entry.key)
  }
  return {
    started(clientId, session) {
      const key = held.get(clientId)?.key ?? {}
      held.set(clientId, { key, exp: session.exp })
      reporter.connected(key, {
        clientId,
        username: session.username,
        jti: session.jti,
        connectedAt: Math.floor(Date.now() / 1000),
        expiresAt: session.exp ?? null,
        remoteAddress: session.remoteAddress,
      })
    },
    ended,
    sweep(now) {
      for (const [clientId, entry] of held) if (entry.exp !== undefined && entry.exp <= now) ended(clientId)
    },
  }
}
