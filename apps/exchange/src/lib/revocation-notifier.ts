import type { RevocationStore, RevocationWatch } from '@mqtt-oidc/core'

/**
 * The signal "broker X's revocations changed", fed by the store's `watch`:
 * a change committed through ANY instance sharing the store (PostgreSQL
 * LISTEN/NOTIFY) wakes this instance's streams, and `'*'` wakes them all.
 * Listeners (the SSE streams) read the new events from the store themselves
 * by their revision cursor, so a missed, repeated or merged signal never
 * loses or duplicates an event.
 */
export interface RevocationNotifier {
  /** Starts following the store; resolves once every later commit is sure to be reported. */
  start(): Promise<void>
  /** Stops following the store (streams stay subscribed; close() ends them). */
  stop(): void
  /** Wakes the streams of `broker` (`'*'`: all); signals within one event-loop turn are merged. */
  notify(broker: string): void
  /** Returns a function that removes the listener. */
  subscribe(broker: string, listener: () => void): () => void
}

export function createRevocationNotifier(revocations: Pick<RevocationStore, 'watch'>): RevocationNotifier {
  // A plain map, not an EventEmitter: a broker named "error" must not be special.
  const listeners = new Map<string, Set<() => void>>()
  const due = new Set<string>()
  let watch: RevocationWatch | undefined

  // One wake per broker per turn, however many commits were reported in it.
  const notify = (broker: string): void => {
    if (due.size === 0) setImmediate(flush)
    due.add(broker)
  }
  const flush = (): void => {
    const brokers = [...due]
    due.clear()
    const woken = brokers.includes('*') ? [...listeners.values()] : brokers.map((b) => listeners.get(b) ?? new Set<() => void>())
    for (const set of woken) for (const listener of [...set]) listener()
  }

  return {
    async start() {
      if (watch) return watch.ready
      const w = revocations.watch(notify)
      watch = w
      await w.ready
      // Streams opened before the watch was listening may have missed a commit: they re-read.
      if (watch === w) notify('*')
    },
    stop() {
      watch?.stop()
      watch = undefined
    },
    notify,
    subscribe: (broker, listener) => {
      const set = listeners.get(broker) ?? new Set()
      listeners.set(broker, set.add(listener))
      return () => {
        set.delete(listener)
        if (set.size === 0 && listeners.get(broker) === set) listeners.delete(broker)
      }
    },
  }
}
