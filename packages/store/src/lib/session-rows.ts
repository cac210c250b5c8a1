import type { ReportedSession, ReportingNode } from '@mqtt-oidc/core'

/** A row of broker_sessions, as both stores read it. */
export interface SessionRow {
  broker: string
  node: string
  connection: string
  client_id: string
  username: string | null
  jti: string
  connected_at: number
  expires_at: number | null
  remote_address: string | null
}

/** A row of session_nodes. */
export interface NodeRow {
  broker: string
  node: string
  seq: number
  reported_at: number
  sessions: number
}

export const toReportedSession = (r: SessionRow): ReportedSession => ({
  broker: r.broker,
  node: r.node,
  connection: r.connection,
  clientId: r.client_id,
  username: r.username,
  jti: r.jti,
  connectedAt: r.connected_at,
  expiresAt: r.expires_at,
  remoteAddress: r.remote_address,
})

export const toReportingNode = (r: NodeRow): ReportingNode => ({ broker: r.broker, node: r.node, seq: r.seq, reportedAt: r.reported_at, sessions: r.sessions })

/** A report that would take its broker past `limit` sessions: thrown inside the transaction so that it rolls back. */
export class SessionLimit extends Error {
  constructor(readonly limit: number) {
    super(`more than ${limit} sessions`)
  }
}
