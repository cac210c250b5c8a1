import { describeError } from './lib/describe-error.js'
import { parseFeedEvents, parseFeedSnapshot, parseSseFeedEvent } from './lib/feed-messages.js'
import type { FeedEvent } from './lib/feed-messages.js'
import { readEventStream } from './lib/read-event-stream.js'
import { createRevocationSet } from './lib/revocation-set.js'
import type { LogFn, RevocationChecker } from './types.js'

export interface RevocationFollowerOptions {
  /** The exchange's base URL; the feed is `{feedUrl}/brokers/{broker}/revocations[/stream]`. Required. */
  feedUrl: string | URL
  /** This broker's id. Required. */
  broker: string
  /** fetch implementation. Default: the global `fetch`. */
  fetch?: typeof fetch
  /** Optional log callback. */
  log?: LogFn
  /** First retry delay after a failure, in ms; doubles per consecutive failure. Default 1000. */
  retryMs?: number
  /** Longest retry delay, in ms. Default 30000. */
  maxRetryMs?: number
  /** While the stream cannot be opened, poll `?since=N` this often, in ms. Default 2000. */
  pollIntervalMs?: number
  /**
   * Reconnect a stream that delivered nothing (not even a keepalive) for this long, in ms. Default 45000:
   * three of the exchange's 15 s keepalives missed, and shorter than the broker's 60 s feed staleness limit,
   * so a silently dead stream is replaced before new CONNECTs are refused.
   */
  idleTimeoutMs?: number
  /** Timeout of snapshot and poll requests, in ms. Default 10000. */
  requestTimeoutMs?: number
}

export type RevocationEventName = 'revoked' | 'unrevoked'

/** How the follower currently learns of revocations. */
export interface RevocationFollowerState {
  /** Last feed revision applied (0 before the first snapshot). */
  readonly revision: number
  readonly mode: 'starting' | 'stream' | 'poll'
  /** Epoch ms of the last sign of life from the feed: a response, an event or a keepalive (null before the snapshot). */
  readonly lastContactAt: number | null
  /** Number of revoked jtis held. */
  readonly size: number
}

export interface RevocationFollower extends RevocationChecker {
  /** Resolves once the full snapshot is loaded: accept no CONNECT before. Rejects if closed first. */
  ready(): Promise<void>
  has(jti: string): boolean
  /** Subscribes to `revoked`/`unrevoked` (each fired once per change); returns the unsubscribe function. */
  on(event: RevocationEventName, listener: (jti: string) => void): () => void
  state(): RevocationFollowerState
  /** Stops following (aborts the stream and pending requests). */
  close(): Promise<void>
}

/**
 * Follows the exchange's revocation feed for one broker: loads the snapshot,
 * then follows the SSE stream (resuming with `Last-Event-ID`), polling
 * `?since=N` while the stream cannot be opened, reconnecting with backoff.
 *
 * @example
 * const follower = createRevocationFollower({ feedUrl: 'http://localhost:4001', broker: 'demo' })
 * await follower.ready()
 * follower.on('revoked', (jti) => closeSessionsOf(jti))
 */
export function createRevocationFollower(options: RevocationFollowerOptions): RevocationFollower {
  const doFetch = options.fetch ?? fetch
  const log: LogFn = options.log ?? (() => {})
  const retryMs = options.retryMs ?? 1000
  const maxRetryMs = options.maxRetryMs ?? 30_000
  const pollIntervalMs = options.pollIntervalMs ?? 2000
  const idleTimeoutMs = options.idleTimeoutMs ?? 45_000
  const requestTimeoutMs = options.requestTimeoutMs ?? 10_000
  const base = String(options.feedUrl).replace(/\/*$/, '/')
  const feed = new URL(`brokers/${encodeURIComponent(options.broker)}/revocations`, base)
  const stream = new URL(`${feed.pathname}/stream`, feed)
  const fields = { broker: options.broker }

  const set = createRevocationSet()
  const listeners = { revoked: new Set<(jti: string) => void>(), unrevoked: new Set<(jti: string) => void>() }
  const stopper = new AbortController()
  let revision = 0
  let mode: RevocationFollowerState['mode'] = 'starting'
  let lastContactAt: number | null = null
  let resolveReady!: () => void
  let rejectReady!: (err: Error) => void
  const readyPromise = new Promise<void>((resolve, reject) => {
    resolveReady = resolve
    rejectReady = reject
  })
  readyPromise.catch(() => {})
  const pruneTimer = setInterval(() => set.prune(Math.floor(Date.now() / 1000)), 60_000)
  pruneTimer.unref()

  function emit(event: RevocationEventName, jti: string): void {
    for (const listener of listeners[event]) {
      try {
        listener(jti)
      } catch (err) {
        log('error', 'revocation listener failed', { ...fields, jti, err: describeError(err) })
      }
    }
  }

  function apply(e: FeedEvent): void {
    if (e.revision <= revision) return
    revision = e.revision
    if (e.action === 'revoke' ? set.revoke(e.jti, e.expiresAt) : set.unrevoke(e.jti)) {
      log('info', e.action === 'revoke' ? 'jti revoked' : 'jti unrevoked', { ...fields, jti: e.jti, revision })
      emit(e.action === 'revoke' ? 'revoked' : 'unrevoked', e.jti)
    }
  }

  function signal(): AbortSignal {
    return AbortSignal.any([stopper.signal, AbortSignal.timeout(requestTimeoutMs)])
  }

  async function getJson(url: URL): Promise<unknown> {
    const res = await doFetch(url, { headers: { accept: 'application/json' }, signal: signal() })
    if (!res.ok) {
      await res.body?.cancel().catch(() => {})
      throw new Error(`GET ${url.pathname}${url.search} answered ${res.status}`)
    }
    const body: unknown = await res.json()
    lastContactAt = Date.now()
    return body
  }

  async function loadSnapshot(): Promise<void> {
    const snapshot = parseFeedSnapshot(await getJson(feed))
    const { added, removed } = set.replace(snapshot.revoked)
    revision = snapshot.revision
    log('info', 'revocation snapshot loaded', { ...fields, revision, revoked: snapshot.revoked.length })
    for (const jti of added) emit('revoked', jti)
    for (const jti of removed) emit('unrevoked', jti)
  }

  /** Applies `?since=N` until caught up; falls back to a snapshot when the server's history does not fit ours. */
  async function poll(): Promise<void> {
    for (let round = 0; round < 100; round++) {
      const url = new URL(feed)
      url.searchParams.set('since', String(revision))
      const page = parseFeedEvents(await getJson(url))
      const first = page.events[0]
      const gap = first ? first.revision > revision + 1 : page.revision > revision
      if (page.revision < revision || gap) return loadSnapshot()
      page.events.forEach(apply)
      if (revision >= page.revision) return
    }
  }

  /** One stream connection. Returns whether it opened (then it ended or dropped). */
  async function follow(): Promise<boolean> {
    const abort = new AbortController()
    const res = await doFetch(stream, {
      headers: { accept: 'text/event-stream', 'last-event-id': String(revision) },
      signal: AbortSignal.any([stopper.signal, abort.signal]),
    }).catch((err: unknown) => {
      log('warn', 'revocation stream unreachable', { ...fields, err: describeError(err) })
      return undefined
    })
    if (!res) return false
    if (!res.ok || !res.body || !(res.headers.get('content-type') ?? '').startsWith('text/event-stream')) {
      log('warn', 'revocation stream refused', { ...fields, status: res.status })
      await res.body?.cancel().catch(() => {})
      return false
    }
    mode = 'stream'
    lastContactAt = Date.now()
    log('info', 'revocation stream open', { ...fields, revision })
    try {
      for await (const events of readEventStream(res.body, idleTimeoutMs, () => abort.abort())) {
        // any byte, keepalive comments included, shows the feed is alive
        lastContactAt = Date.now()
        for (const e of events) await onStreamEvent(e.id, e.event, e.data)
      }
      if (!stopper.signal.aborted) log('warn', 'revocation stream ended', { ...fields, revision })
    } catch (err) {
      if (!stopper.signal.aborted) log('warn', 'revocation stream dropped', { ...fields, revision, err: describeError(err) })
    }
    return true
  }

  async function onStreamEvent(id: string | undefined, event: string, data: string): Promise<void> {
    if (event !== 'revoke' && event !== 'unrevoke') return
    let e: FeedEvent
    try {
      e = parseSseFeedEvent(id, event, data)
    } catch (err) {
      log('warn', 'revocation stream event ignored', { ...fields, err: describeError(err) })
      return
    }
    // a hole in the revisions means we missed something: catch up before going on
    // (a failing catch-up throws, dropping the stream, which resumes from `revision`)
    if (e.revision > revision + 1) await poll()
    apply(e)
  }

  function sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      if (stopper.signal.aborted) return resolve()
      const done = (): void => {
        clearTimeout(timer)
        stopper.signal.removeEventListener('abort', done)
        resolve()
      }
      const timer = setTimeout(done, ms)
      stopper.signal.addEventListener('abort', done)
    })
  }

  const backoff = (failures: number): number => Math.min(retryMs * 2 ** Math.max(0, failures - 1), maxRetryMs)

  async function pollFor(ms: number): Promise<void> {
    mode = 'poll'
    const until = Date.now() + ms
    do {
      await poll().catch((err: unknown) => log('warn', 'revocation poll failed', { ...fields, err: describeError(err) }))
      await sleep(Math.max(0, Math.min(pollIntervalMs, until - Date.now())))
    } while (!stopper.signal.aborted && Date.now() < until)
  }

  async function run(): Promise<void> {
    for (let failures = 0; !stopper.signal.aborted;) {
      try {
        await loadSnapshot()
        break
      } catch (err) {
        if (stopper.signal.aborted) break
        failures++
        log('warn', 'revocation snapshot failed; CONNECTs wait', { ...fields, err: describeError(err), attempt: failures })
        await sleep(backoff(failures))
      }
    }
    if (stopper.signal.aborted) return
    resolveReady()
    for (let failures = 0; !stopper.signal.aborted;) {
      const opened = await follow()
      if (stopper.signal.aborted) break
      if (opened) {
        failures = 0
        await sleep(retryMs)
      } else {
        failures++
        await pollFor(backoff(failures))
      }
    }
  }

  const running = run().catch((err: unknown) => log('error', 'revocation follower stopped', { ...fields, err: describeError(err) }))

  return {
    ready: () => readyPromise,
    has: (jti) => set.has(jti),
    on(event, listener) {
      listeners[event].add(listener)
      return () => listeners[event].delete(listener)
    },
    state: () => ({ revision, mode, lastContactAt, size: set.size }),
    async close() {
      stopper.abort()
      clearInterval(pruneTimer)
      rejectReady(new Error('revocation follower closed before its snapshot loaded'))
      await running
    },
  }
}
