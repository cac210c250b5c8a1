import type { ReportedSession } from '@mqtt-oidc/core'

/** One session as a node reports it to the exchange: what the exchange keeps, less the broker and node (the report says them). */
export type ReportedSessionEntry = Omit<ReportedSession, 'broker' | 'node'>

/** The body of one report (without node and seq). */
export interface SessionReportBody {
  readonly reset: boolean
  readonly connected: readonly ReportedSessionEntry[]
  readonly disconnected: readonly string[]
}

export interface SessionDeltas {
  connected(key: object, session: Omit<ReportedSessionEntry, 'connection'>): void
  /** False when there is nothing to tell (the session was never reported). */
  disconnected(key: object): boolean
  /** Whether a report is due. */
  pending(): boolean
  /** The next report (at most `maxPerReport` sessions); what it carries is in flight until sent() or lost(). */
  next(): SessionReportBody
  /** The report in flight was applied. */
  sent(): void
  /** The report in flight may or may not have been applied: the next one resends everything. */
  lost(): void
  readonly size: number
}

/**
 * What a node holds and what it has yet to tell: connections get short ids
 * of their own (client ids repeat across a takeover), a session that comes
 * and goes between two reports is never reported, and after a lost report
 * everything is sent again as a reset, `maxPerReport` at a time.
 */
export function createSessionDeltas(maxPerReport: number): SessionDeltas {
  const ids = new WeakMap<object, string>()
  const live = new Map<string, ReportedSessionEntry>()
  let added = new Map<string, ReportedSessionEntry>()
  let removed = new Set<string>()
  let counter = 0
  let needsReset = true

  function disconnected(key: object): boolean {
    const id = ids.get(key)
    if (id === undefined) return false
    ids.delete(key)
    live.delete(id)
    // Not reported yet (nor in flight): there is nothing to take back.
    if (added.delete(id)) return false
    removed.add(id)
    return true
  }

  return {
    connected(key, session) {
      disconnected(key)
      const connection = (counter++).toString(36)
      const entry: ReportedSessionEntry = { connection, ...session }
      ids.set(key, connection)
      live.set(connection, entry)
      added.set(connection, entry)
    },
    disconnected,
    pending: () => needsReset || added.size > 0 || removed.size > 0,
    next() {
      if (needsReset) {
        const all = [...live.values()]
        // Whatever does not fit follows as ordinary reports after this one.
        added = new Map(all.slice(maxPerReport).map((e) => [e.connection, e]))
        removed = new Set()
        needsReset = false
        return { reset: true, connected: all.slice(0, maxPerReport), disconnected: [] }
      }
      const disconnectedIds = [...removed].slice(0, maxPerReport)
      for (const id of disconnectedIds) removed.delete(id)
      const connected = [...added.values()].slice(0, maxPerReport - disconnectedIds.length)
      for (const e of connected) added.delete(e.connection)
      return { reset: false, connected, disconnected: disconnectedIds }
    },
    sent() {
      // Nothing to keep: what was in flight is the exchange's now.
    },
    lost() {
      needsReset = true
      added = new Map()
      removed = new Set()
    },
    get size() {
      return live.size
    },
  }
}
