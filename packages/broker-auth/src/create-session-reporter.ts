import { abortableSleep } from './lib/abortable-sleep.js'
import { describeError } from './lib/describe-error.js'
import { createReconnectPolicy } from './lib/reconnect-policy.js'
import { createSessionDeltas } from './lib/session-deltas.js'
import type { ReportedSessionEntry } from './lib/session-deltas.js'
import type { LogFn } from './types.js'

export type { ReportedSessionEntry }

export interface SessionReporterOptions {
  /** The exchange's base URL; reports go to `{exchangeUrl}/brokers/{broker}/sessions`. Required. */
  exchangeUrl: string | URL
  /** This broker's id. Required. */
  broker: string
  /** This node's id, unique among the broker's nodes (1..128 printable ASCII). Required. */
  node: string
  /**
   * This broker's feed credential (`Authorization: Bearer …`; the same that reads its revocation
   * feed); a function is called before each report, so a rotated credential is picked up. Default: none.
   */
  credential?: string | (() => string | undefined)
  /** fetch implementation. Default: the global `fetch`. */
  fetch?: typeof fetch
  log?: LogFn
  /** Changes within this long after the first one go out in one report, ms. Default 50. */
  batchMs?: number
  /** Most sessions per report (the exchange takes 500). Default 500. */
  maxPerReport?: number
  /** Report this often when nothing changed, until the exchange says otherwise, ms. Default 15000. */
  heartbeatMs?: number
  /** Timeout of one report, ms. Default 10000. */
  requestTimeoutMs?: number
  /** First retry window after a failed report, ms; doubles per failure (full jitter). Default 1000. */
  retryMs?: number
  /** Longest retry window, ms. Default 60000. */
  maxRetryMs?: number
}

export interface SessionReporter {
  /** A session started on connection `key` (any object that lives as long as the connection). */
  connected(key: object, session: Omit<ReportedSessionEntry, 'connection'>): void
  /** The session of `key` ended (closed, revoked or expired). */
  disconnected(key: object): void
  /** Sessions this node holds. */
  readonly size: number
  /** Stops reporting; first tells the exchange (within 1 s) that this node holds nothing any more. */
  close(): Promise<void>
}

/**
 * Reports this node's live MQTT sessions to the exchange, which keeps them
 * for the console: a full report (`reset`) first and after any doubt, then
 * only what changed, batched (a revoked session's end is sent within
 * `batchMs`), one request at a time, numbered so the exchange notices a lost
 * one (409: resend everything), and a heartbeat when idle so the exchange
 * can tell a dead node from a quiet one. Failures are retried with back-off
 * and never touch the MQTT side.
 *
 * @example
 * const reporter = createSessionReporter({ exchangeUrl, broker: 'demo', node: 'node-1', credential })
 * reporter.connected(client, { clientId, username: null, jti, connectedAt, expiresAt, remoteAddress })
 */
export function createSessionReporter(options: SessionReporterOptions): SessionReporter {
  const log: LogFn = options.log ?? (() => {})
  const doFetch = options.fetch ?? fetch
  const url = new URL(`brokers/${encodeURIComponent(options.broker)}/sessions`, String(options.exchangeUrl).replace(/\/*$/, '/'))
  const credential = typeof options.credential === 'function' ? options.credential : () => options.credential as string | undefined
  const deltas = createSessionDeltas(options.maxPerReport ?? 500)
  const backoff = createReconnectPolicy({ retryMs: options.retryMs ?? 1000, maxRetryMs: options.maxRetryMs ?? 60_000 })
  const batchMs = options.batchMs ?? 50
  const requestTimeoutMs = options.requestTimeoutMs ?? 10_000
  const stop = new AbortController()
  let heartbeatMs = options.heartbeatMs ?? 15_000
  let seq = 0
  let lastSent = 0
  let failures = 0
  let failureLogged = false
  let wake: (() => void) | undefined

  const changed = (): void => wake?.()

  /** Sends one report; true when the exchange applied it. */
  async function send(report: ReturnType<typeof deltas.next>, signal: AbortSignal): Promise<{ ok: boolean; retryAfterMs?: number }> {
    const secret = credential()
    // One controller per request, its listener on the long-lived `signal` removed afterwards (AbortSignal.any
    // would leave one behind per report until garbage collection).
    const request = new AbortController()
    const abort = (): void => request.abort()
    const timer = setTimeout(abort, requestTimeoutMs)
    signal.addEventListener('abort', abort)
    let res: Response
    let body: { heartbeatSeconds?: unknown; error_description?: unknown } | undefined
    try {
      res = await doFetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json', ...(secret ? { authorization: `Bearer ${secret}` } : {}) },
        body: JSON.stringify({ node: options.node, seq: seq + 1, ...report }),
        signal: request.signal,
      })
      body = (await res.json().catch(() => undefined)) as typeof body
    } finally {
      clearTimeout(timer)
      signal.removeEventListener('abort', abort)
    }
    if (res.ok) {
      seq += 1
      const seconds = body?.heartbeatSeconds
      if (typeof seconds === 'number' && seconds >= 1 && seconds <= 3600) heartbeatMs = seconds * 1000
      return { ok: true }
    }
    const retryAfter = Number(res.headers.get('retry-after'))
    const why = typeof body?.error_description === 'string' ? body.error_description.slice(0, 200) : undefined
    // 409: a report got lost (or the exchange forgot this node); the next one resends everything.
    if (res.status !== 409 && !failureLogged) {
      failureLogged = true
      log(
        res.status === 404 ? 'warn' : 'error',
        res.status === 404 ? 'the exchange does not take session reports (404); retrying now and then' : 'session report refused',
        { status: res.status, reason: why, node: options.node },
      )
    }
    return { ok: false, ...(Number.isFinite(retryAfter) && retryAfter > 0 ? { retryAfterMs: retryAfter * 1000 } : {}) }
  }

  async function loop(): Promise<void> {
    while (!stop.signal.aborted) {
      if (!deltas.pending() && Date.now() - lastSent < heartbeatMs) {
        // Until a change, the next heartbeat, or close() (each wakes this one wait).
        const timer = setTimeout(() => wake?.(), Math.max(0, heartbeatMs - (Date.now() - lastSent)))
        await new Promise<void>((resolve) => {
          wake = resolve
        })
        clearTimeout(timer)
        wake = undefined
        if (stop.signal.aborted) return
        // Let the changes of this moment gather into one report.
        if (deltas.pending()) await abortableSleep(batchMs, stop.signal)
        if (stop.signal.aborted) return
      }
      const report = deltas.next()
      let outcome: { ok: boolean; retryAfterMs?: number }
      try {
        outcome = await send(report, stop.signal)
      } catch (err) {
        if (stop.signal.aborted) return
        if (!failureLogged) {
          failureLogged = true
          log('warn', 'cannot reach the exchange with a session report; retrying', { err: describeError(err), node: options.node })
        }
        outcome = { ok: false }
      }
      lastSent = Date.now()
      if (outcome.ok) {
        deltas.sent()
        if (failures > 0 || failureLogged) log('info', 'session reports reach the exchange again', { node: options.node })
        failures = 0
        failureLogged = false
        continue
      }
      // Whether the exchange applied it is unknown: start over with everything this node holds.
      deltas.lost()
      failures++
      await abortableSleep(outcome.retryAfterMs ?? backoff.delay(failures), stop.signal)
    }
  }

  const running = loop()

  return {
    connected(key, session) {
      deltas.connected(key, session)
      changed()
    },
    disconnected(key) {
      if (deltas.disconnected(key)) changed()
    },
    get size() {
      return deltas.size
    },
    async close() {
      stop.abort()
      wake?.()
      await running
      // The console should not show this node's sessions for three heartbeats: say it holds none.
      const farewell = new AbortController()
      const timer = setTimeout(() => farewell.abort(), 1000)
      try {
        await send({ reset: true, connected: [], disconnected: [] }, farewell.signal)
      } catch {
        // The exchange takes the node for gone after three missed heartbeats anyway.
      } finally {
        clearTimeout(timer)
      }
    },
  }
}
