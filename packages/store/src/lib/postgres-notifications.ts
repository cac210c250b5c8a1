import pg from 'pg'
import type { RevocationWatch } from '@mqtt-oidc/core'

/** The channel revocation changes are announced on; the payload is the broker id. */
export const REVOCATION_CHANNEL = 'mqtt_oidc_revocations'

export interface PostgresNotifications {
  watch(listener: (broker: string) => void): RevocationWatch
  close(): Promise<void>
}

/** The channel session report changes are announced on; the payload is the broker id. */
export const SESSION_CHANNEL = 'mqtt_oidc_sessions'

/**
 * One dedicated connection that LISTENs on `channel` (default: revocation
 * changes; pooled connections cannot hold a LISTEN). Opened on the first watcher; on loss it
 * reconnects with backoff and tells watchers `'*'`, since notifications sent
 * while it was away are gone (the revision cursor covers them).
 */
export function createPostgresNotifications(connectionString: string, channel: string = REVOCATION_CHANNEL): PostgresNotifications {
  const listeners = new Set<(broker: string) => void>()
  let client: pg.Client | undefined
  let closed = false
  let retryMs = 100
  let timer: NodeJS.Timeout | undefined
  let listening: Promise<void> | undefined
  let markListening: () => void = () => {}
  const emit = (broker: string): void => { for (const l of listeners) l(broker) }

  const connect = async (): Promise<void> => {
    if (closed || client) return
    const c = new pg.Client({ connectionString })
    client = c
    c.on('notification', (msg) => { if (msg.channel === channel) emit(msg.payload ?? '*') })
    c.on('error', () => lost(c))
    c.on('end', () => lost(c))
    try {
      await c.connect()
      await c.query(`LISTEN ${channel}`)
      markListening()
      if (retryMs > 100) emit('*')
      retryMs = 100
    } catch {
      lost(c)
    }
  }
  const lost = (c: pg.Client): void => {
    if (client !== c) return
    client = undefined
    c.end().catch(() => {})
    if (closed || listeners.size === 0) return
    timer = setTimeout(() => { void connect() }, retryMs)
    timer.unref()
    retryMs = Math.min(retryMs * 2, 5_000)
  }

  return {
    watch(listener) {
      listeners.add(listener)
      listening ??= new Promise<void>((resolve) => { markListening = resolve })
      void connect()
      return { ready: listening, stop: () => { listeners.delete(listener) } }
    },
    async close() {
      closed = true
      if (timer) clearTimeout(timer)
      const c = client
      client = undefined
      await c?.end().catch(() => {})
    },
  }
}
