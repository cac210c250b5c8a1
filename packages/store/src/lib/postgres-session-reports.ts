import type { SessionReport, SessionReportOutcome, SessionReportStore } from '@mqtt-oidc/core'
import { inTransaction, type PgClient, type PgPool } from './postgres-pool.js'
import { SESSION_CHANNEL, type PostgresNotifications } from './postgres-notifications.js'
import { SessionLimit, toReportedSession, toReportingNode, type NodeRow, type SessionRow } from './session-rows.js'

/**
 * Reported sessions on PostgreSQL. A report runs in one transaction holding
 * the broker's revision row (so two instances applying reports of one broker
 * serialise, and the node and session caps hold across them), and announces
 * a change on SESSION_CHANNEL when it commits.
 */
export function createPostgresSessionReports(pool: PgPool, notifications: PostgresNotifications): SessionReportStore {
  const applyIn = async (client: PgClient, report: SessionReport, limits: Parameters<SessionReportStore['apply']>[1]): Promise<SessionReportOutcome> => {
    await client.query('INSERT INTO session_revisions (broker, revision) VALUES ($1, 0) ON CONFLICT DO NOTHING', [report.broker])
    const {
      rows: [locked],
    } = await client.query<{ revision: number }>('SELECT revision FROM session_revisions WHERE broker = $1 FOR UPDATE', [report.broker])
    const { rows: nodes } = await client.query<NodeRow>('SELECT * FROM session_nodes WHERE broker = $1 AND (reported_at >= $2 OR node = $3)', [
      report.broker,
      limits.freshSince,
      report.node,
    ])
    const node = nodes.find((n) => n.node === report.node)
    const others = nodes.filter((n) => n.node !== report.node)
    if (!report.reset && (node === undefined || report.seq !== node.seq + 1)) {
      return { applied: false, reason: 'out-of-sequence', expectedSeq: node === undefined ? null : node.seq + 1 }
    }
    if (node === undefined && others.length >= limits.maxNodes) return { applied: false, reason: 'too-many-nodes', limit: limits.maxNodes }
    let sessions = report.reset ? 0 : (node?.sessions ?? 0)
    let changed = false
    if (report.reset)
      changed = ((await client.query('DELETE FROM broker_sessions WHERE broker = $1 AND node = $2', [report.broker, report.node])).rowCount ?? 0) > 0
    const gone = [...report.disconnected, ...report.connected.map((s) => s.connection)]
    if (gone.length > 0) {
      const removed =
        (await client.query('DELETE FROM broker_sessions WHERE broker = $1 AND node = $2 AND connection = ANY($3)', [report.broker, report.node, gone]))
          .rowCount ?? 0
      sessions -= removed
      changed ||= removed > 0
    }
    if (report.connected.length > 0) {
      const c = report.connected
      await client.query(
        `INSERT INTO broker_sessions (broker, node, connection, client_id, username, jti, connected_at, expires_at, remote_address)
        SELECT $1, $2, t.connection, t.client_id, t.username, t.jti, t.connected_at, t.expires_at, t.remote_address
        FROM unnest($3::text[], $4::text[], $5::text[], $6::text[], $7::bigint[], $8::bigint[], $9::text[])
          AS t(connection, client_id, username, jti, connected_at, expires_at, remote_address)`,
        [
          report.broker,
          report.node,
          c.map((s) => s.connection),
          c.map((s) => s.clientId),
          c.map((s) => s.username),
          c.map((s) => s.jti),
          c.map((s) => s.connectedAt),
          c.map((s) => s.expiresAt),
          c.map((s) => s.remoteAddress),
        ],
      )
      sessions += c.length
      changed = true
    }
    if (sessions + others.reduce((sum, n) => sum + n.sessions, 0) > limits.maxSessions) throw new SessionLimit(limits.maxSessions)
    await client.query(
      `INSERT INTO session_nodes (broker, node, seq, reported_at, sessions) VALUES ($1, $2, $3, $4, $5)
      ON CONFLICT (broker, node) DO UPDATE SET seq = excluded.seq, reported_at = excluded.reported_at, sessions = excluded.sessions`,
      [report.broker, report.node, report.seq, report.at, sessions],
    )
    const revision = (locked?.revision ?? 0) + (changed ? 1 : 0)
    if (changed) {
      await client.query('UPDATE session_revisions SET revision = $2 WHERE broker = $1', [report.broker, revision])
      // Delivered to every listening instance when (and only if) this transaction commits.
      await client.query('SELECT pg_notify($1, $2)', [SESSION_CHANNEL, report.broker])
    }
    return { applied: true, revision, sessions }
  }

  return {
    async apply(report, limits) {
      // A connection id given twice in one report counts once: the last entry wins.
      const connected = [...new Map(report.connected.map((s) => [s.connection, s])).values()]
      try {
        return await inTransaction(pool, (client) => applyIn(client, { ...report, connected }, limits))
      } catch (err) {
        if (err instanceof SessionLimit) return { applied: false, reason: 'too-many-sessions', limit: err.limit }
        throw err
      }
    },
    async list(broker, q) {
      const { rows } = await pool.query<SessionRow>(
        `SELECT s.* FROM broker_sessions s JOIN session_nodes n ON n.broker = s.broker AND n.node = s.node
        WHERE s.broker = $1 AND n.reported_at >= $2
          AND ($3::text IS NULL OR s.node = $3) AND ($4::text IS NULL OR s.client_id = $4) AND ($5::text IS NULL OR s.jti = $5)
          AND ($6::text IS NULL OR strpos(s.client_id, $6) > 0 OR strpos(s.jti, $6) > 0)
        ORDER BY s.connected_at DESC, s.node COLLATE "C", s.connection COLLATE "C" LIMIT $7`,
        [broker, q.freshSince, q.node ?? null, q.clientId ?? null, q.jti ?? null, q.contains ?? null, q.limit],
      )
      return rows.map(toReportedSession)
    },
    async nodes(broker, freshSince) {
      const { rows } = await pool.query<NodeRow>('SELECT * FROM session_nodes WHERE broker = $1 AND reported_at >= $2 ORDER BY node COLLATE "C"', [
        broker,
        freshSince,
      ])
      return rows.map(toReportingNode)
    },
    async revision(broker) {
      const { rows } = await pool.query<{ revision: number }>('SELECT revision FROM session_revisions WHERE broker = $1', [broker])
      return rows[0]?.revision ?? 0
    },
    prune: (before) =>
      inTransaction(pool, async (client) => {
        await client.query(
          `DELETE FROM broker_sessions s USING session_nodes n
        WHERE n.broker = s.broker AND n.node = s.node AND n.reported_at < $1`,
          [before],
        )
        return (await client.query('DELETE FROM session_nodes WHERE reported_at < $1', [before])).rowCount ?? 0
      }),
    watch: (listener) => notifications.watch(listener),
  }
}
