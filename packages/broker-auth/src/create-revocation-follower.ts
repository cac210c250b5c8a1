import { abortableSleep } from './lib/abortable-sleep.js'
import { catchUp } from './lib/catch-up.js'
import { describeError } from './lib/describe-error.js'
import { createFeedClient, FeedHttpError } from './lib/feed-client.js'
import { createFeedFailureLog } from './lib/feed-failure-log.js'
import { followStream } from './lib/follow-stream.js'
import { createReconnectPolicy } from './lib/reconnect-policy.js'
import { createRevocationState } from './lib/revocation-state.js'
import type { RevocationEventName } from './lib/revocation-state.js'
import type { LogFn, RevocationChecker } from './types.js'

export type { RevocationEventName }

export interface RevocationFollowerOptions {
  /** The exchange's base URL; the feed is `{feedUrl}/brokers/{broker}/revocations[/stream]`. Required. */
  feedUrl: string | URL
  /** This broker's id. Required. */
  broker: string
  /**
   * This broker's feed credential, sent as `Authorization: Bearer …` on every feed request;
   * a function is called before each request, so a rotated credential (file) is picked up
   * without a restart. Default: none (an exchange that requires one answers 401).
   */
  credential?: string | (() => string | undefined)
  /** fetch implementation. Default: the global `fetch`. */
  fetch?: typeof fetch
  /** Optional log callback. */
  log?: LogFn
  /**
   * First retry window after a failure, in ms; doubles per consecutive failure up to `maxRetryMs`.
   * Each wait is drawn uniformly from the window (full jitter), so brokers do not retry in lockstep. Default 1000.
   */
  retryMs?: number
  /** Longest retry window, in ms. Default 30000. */
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
  /** Uniform random number in [0, 1) for the retry jitter. Default `Math.random`. */
  random?: () => number
}

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
 * `?since=N` while the stream cannot be opened, reconnecting with jittered
 * exponential back-off.
 *
 * @example
 * const follower = createRevocationFollower({ feedUrl: 'http://localhost:4001', broker: 'demo', credential: () => readFileSync(file, 'utf8').trim() })
 * await follower.ready()
 * follower.on('revoked', (jti) => closeSessionsOf(jti))
 */
export function createRevocationFollower(options: RevocationFollowerOptions): RevocationFollower {
  const log: LogFn = options.log ?? (() => {})
  const retryMs = options.retryMs ?? 1000
  const pollIntervalMs = options.pollIntervalMs ?? 2000
  const fields = { broker: options.broker }
  const stopper = new AbortController()
  const signal = stopper.signal
  const policy = createReconnectPolicy({ retryMs, maxRetryMs: options.maxRetryMs ?? 30_000, random: options.random })
  const credential = typeof options.credential === 'function' ? options.credential : () => options.credential as string | undefined
  let mode: RevocationFollowerState['mode'] = 'starting'
  let lastContactAt: number | null = null
  const touch = (): void => {
    lastContactAt = Date.now()
  }
  const state = createRevocationState(log, fields)
  const client = createFeedClient({
    feedUrl: options.feedUrl,
    broker: options.broker,
    fetch: options.fetch ?? fetch,
    credential,
    requestTimeoutMs: options.requestTimeoutMs ?? 10_000,
    signal,
    onContact: touch,
  })
  const refusals = createFeedFailureLog(log, fields)

  let resolveReady!: () => void
  let rejectReady!: (err: Error) => void
  const readyPromise = new Promise<void>((resolve, reject) => {
    resolveReady = resolve
    rejectReady = reject
  })
  readyPromise.catch(() => {})
  const pruneTimer = setInterval(() => state.prune(Math.floor(Date.now() / 1000)), 60_000)
  pruneTimer.unref()

  /** Loads the first snapshot, retrying with back-off; resolves false when closed first. */
  async function loadFirstSnapshot(): Promise<boolean> {
    for (let failures = 1; !signal.aborted; failures++) {
      try {
        state.load(await client.snapshot())
        refusals.cleared()
        return true
      } catch (err) {
        if (signal.aborted) break
        const retry = policy.delay(failures)
        refusals.failed(err, 'revocation snapshot failed; CONNECTs wait', { attempt: failures, retry_ms: retry })
        await abortableSleep(retry, signal)
      }
    }
    return false
  }

  /** Polls `?since=N` for `ms` while the stream stays shut. */
  async function pollFor(ms: number): Promise<void> {
    mode = 'poll'
    const until = Date.now() + ms
    do {
      await catchUp(client, state).then(
        () => refusals.cleared(),
        (err: unknown) => refusals.failed(err, 'revocation poll failed'),
      )
      await abortableSleep(Math.max(0, Math.min(pollIntervalMs, until - Date.now())), signal)
    } while (!signal.aborted && Date.now() < until)
  }

  async function run(): Promise<void> {
    if (!(await loadFirstSnapshot())) return
    resolveReady()
    for (let failures = 0; !signal.aborted;) {
      const { opened, status } = await followStream({
        client,
        state,
        idleTimeoutMs: options.idleTimeoutMs ?? 45_000,
        signal,
        log,
        fields,
        onOpen: () => {
          mode = 'stream'
          refusals.cleared()
        },
        onContact: touch,
      })
      if (signal.aborted) break
      if (opened) {
        // the stream was fine until it ended: come back soon, but not all brokers in the same instant
        failures = 0
        await abortableSleep(policy.delay(1), signal)
      } else {
        failures++
        if (status === 401 || status === 403) refusals.failed(new FeedHttpError(status, 'revocation stream'), 'revocation stream refused')
        await pollFor(policy.delay(failures))
      }
    }
  }

  const running = run().catch((err: unknown) => log('error', 'revocation follower stopped', { ...fields, err: describeError(err) }))

  return {
    ready: () => readyPromise,
    has: (jti) => state.has(jti),
    on: (event, listener) => state.on(event, listener),
    state: () => ({ revision: state.revision, mode, lastContactAt, size: state.size }),
    async close() {
      stopper.abort()
      clearInterval(pruneTimer)
      rejectReady(new Error('revocation follower closed before its snapshot loaded'))
      await running
    },
  }
}
