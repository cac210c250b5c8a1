import type { SessionReportOutcome, SessionReportStore } from '@mqtt-oidc/core'
import type { SqliteDatabase } from './sqlite-open.js'
import { SessionLimit, toReportedSession, toReportingNode, type NodeRow, type SessionRow } from './session-rows.js'

/**
 * Reported sessions on SQLite: one transaction per report, a per-node
 * session count kept with the rows (so the broker's total is a sum over its
 * few nodes, not a count over its sessions), and watchers in this process
 * told after the commit.
 */
export function createSqliteSessionReports(db: SqliteDatabase): SessionReportStore {
  const listeners = new Set<(broker: string) => void>()
  const getNode = db.prepare('SELECT * FROM session_nodes WHERE broker = ? AND node = ?')
  const freshNodes = db.prepare('SELECT * FROM session_nodes WHERE broker = ? AND reported_at >= ? ORDER BY node')
  const saveNode = db.prepare(`INSERT INTO session_nodes (broker, node, seq, reported_at, sessions) VALUES (@broker, @node, @seq, @at, @sessions)
    ON CONFLICT (broker, node) DO UPDATE SET seq = excluded.seq, reported_at = excluded.reported_at, sessions = excluded.sessions`)
  const clearNode = db.prepare('DELETE FROM broker_sessions WHERE broker = ? AND node = ?')
  const removeOne = db.prepare('DELETE FROM broker_sessions WHERE broker = ? AND node = ? AND connection = ?')
  const insertOne = db.prepare(`INSERT INTO broker_sessions (broker, node, connection, client_id, username, jti, connected_at, expires_at, remote_address)
    VALUES (@broker, @node, @connection, @clientId, @username, @jti, @connectedAt, @expiresAt, @remoteAddress)`)
  const getRevision = db.prepare('SELECT revision FROM session_revisions WHERE broker = ?')
  const setRevision = db.prepare(`INSERT INTO session_revisions (broker, revision) VALUES (?, ?)
    ON CONFLICT (broker) DO UPDATE SET revision = excluded.revision`)
  const list = db.prepare(`SELECT s.* FROM broker_sessions s JOIN session_nodes n ON n.broker = s.broker AND n.node = s.node
    WHERE s.broker = @broker AND n.reported_at >= @freshSince
      AND (@node IS NULL OR s.node = @node) AND (@clientId IS NULL OR s.client_id = @clientId) AND (@jti IS NULL OR s.jti = @jti)
      AND (@contains IS NULL OR instr(s.client_id, @contains) > 0 OR instr(s.jti, @contains) > 0)
    ORDER BY s.connected_at DESC, s.node, s.connection LIMIT @limit`)
  const staleNodes = db.prepare('SELECT broker, node FROM session_nodes WHERE reported_at < ?')
  const dropNode = db.prepare('DELETE FROM session_nodes WHERE broker = ? AND node = ?')

  const revisionOf = (broker: string): number => (getRevision.get(broker) as { revision: number } | undefined)?.revision ?? 0

  type Applied = { outcome: SessionReportOutcome; changed: boolean }
  const apply = db.transaction((report: Parameters<SessionReportStore['apply']>[0], limits: Parameters<SessionReportStore['apply']>[1]): Applied => {
    const node = getNode.get(report.broker, report.node) as NodeRow | undefined
    if (!report.reset && (node === undefined || report.seq !== node.seq + 1)) {
      return { outcome: { applied: false, reason: 'out-of-sequence', expectedSeq: node === undefined ? null : node.seq + 1 }, changed: false }
    }
    const others = (freshNodes.all(report.broker, limits.freshSince) as NodeRow[]).filter((n) => n.node !== report.node)
    if (node === undefined && others.length >= limits.maxNodes)
      return { outcome: { applied: false, reason: 'too-many-nodes', limit: limits.maxNodes }, changed: false }
    let sessions = report.reset ? 0 : (node?.sessions ?? 0)
    let changed = report.reset && (node?.sessions ?? 0) > 0
    if (report.reset) clearNode.run(report.broker, report.node)
    for (const connection of report.disconnected) {
      const gone = removeOne.run(report.broker, report.node, connection).changes
      sessions -= gone
      changed ||= gone > 0
    }
    for (const s of report.connected) {
      sessions -= removeOne.run(report.broker, report.node, s.connection).changes
      insertOne.run({ ...s, broker: report.broker, node: report.node })
      sessions += 1
      changed = true
    }
    const total = sessions + others.reduce((sum, n) => sum + n.sessions, 0)
    if (total > limits.maxSessions) throw new SessionLimit(limits.maxSessions)
    saveNode.run({ broker: report.broker, node: report.node, seq: report.seq, at: report.at, sessions })
    const revision = changed ? revisionOf(report.broker) + 1 : revisionOf(report.broker)
    if (changed) setRevision.run(report.broker, revision)
    return { outcome: { applied: true, revision, sessions }, changed }
  })

  const prune = db.transaction((before: number): number => {
    const stale = staleNodes.all(before) as Array<{ broker: string; node: string }>
    for (const { broker, node } of stale) {
      clearNode.run(broker, node)
      dropNode.run(broker, node)
    }
    return stale.length
  })

  return {
    async apply(report, limits) {
      let result: Applied
      try {
        result = apply.immediate(report, limits)
      } catch (err) {
        // Thrown inside the transaction so that it rolls back.
        if (err instanceof SessionLimit) return { applied: false, reason: 'too-many-sessions', limit: err.limit }
        throw err
      }
      if (result.changed) for (const l of listeners) l(report.broker)
      return result.outcome
    },
    async list(broker, query) {
      return (
        list.all({
          broker,
          freshSince: query.freshSince,
          node: query.node ?? null,
          clientId: query.clientId ?? null,
          jti: query.jti ?? null,
          contains: query.contains ?? null,
          limit: query.limit,
        }) as SessionRow[]
      ).map(toReportedSession)
    },
    async nodes(broker, freshSince) {
      return (freshNodes.all(broker, freshSince) as NodeRow[]).map(toReportingNode)
    },
    async revision(broker) {
      return revisionOf(broker)
    },
    async prune(before) {
      return prune.immediate(before)
    },
    watch(listener) {
      listeners.add(listener)
      return {
        ready: Promise.resolve(),
        stop: () => {
          listeners.delete(listener)
        },
      }
    },
  }
}
