import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createRevocationFollower } from '../src/index.js'
import type { LogFn, RevocationEventName, RevocationFollower } from '../src/index.js'
import { startFakeExchange } from '@mqtt-oidc/test-support/fake-exchange'
import type { FakeExchange } from '@mqtt-oidc/test-support/fake-exchange'

const BROKER = 'demo'
const STREAM = `/brokers/${BROKER}/revocations/stream`
const SNAPSHOT = `/brokers/${BROKER}/revocations`

let exchange: FakeExchange
let follower: RevocationFollower | undefined

const next = (f: RevocationFollower, event: RevocationEventName, jti: string): Promise<void> =>
  new Promise((resolve) => {
    const off = f.on(event, (j) => {
      if (j === jti) {
        off()
        resolve()
      }
    })
  })

type Overrides = Partial<Parameters<typeof createRevocationFollower>[0]>
function follow(overrides: Overrides = {}): RevocationFollower {
  follower = createRevocationFollower({ feedUrl: exchange.url, broker: BROKER, retryMs: 20, maxRetryMs: 200, pollIntervalMs: 20, ...overrides })
  return follower
}

interface Line {
  level: string
  msg: string
  fields: Record<string, unknown>
}
/** A log callback that keeps every line; `logged(pred)` resolves once the lines so far satisfy `pred`. */
function recorder(): { log: LogFn; lines: Line[]; logged(pred: (lines: Line[]) => boolean): Promise<void> } {
  const lines: Line[] = []
  const waiters: Array<{ pred: (lines: Line[]) => boolean; resolve: () => void }> = []
  const log: LogFn = (level, msg, fields = {}) => {
    lines.push({ level, msg, fields })
    for (const w of [...waiters]) {
      if (!w.pred(lines)) continue
      waiters.splice(waiters.indexOf(w), 1)
      w.resolve()
    }
  }
  return { lines, log, logged: (pred) => (pred(lines) ? Promise.resolve() : new Promise((resolve) => waiters.push({ pred, resolve }))) }
}

beforeEach(async () => {
  exchange = await startFakeExchange({ broker: BROKER })
})
afterEach(async () => {
  await follower?.close()
  follower = undefined
  await exchange.close()
})

describe('createRevocationFollower: GET /brokers/:id/revocations (snapshot)', () => {
  it('is ready only once the full snapshot is loaded, retrying a failing snapshot', async () => {
    exchange.revoke('a', 4_000_000_000)
    exchange.revoke('b')
    exchange.snapshotFailure = 500
    const failed = exchange.nextFeedRequest((r) => r.path === SNAPSHOT)
    const f = follow()
    let ready = false
    void f.ready().then(() => (ready = true))
    await failed
    const retried = exchange.nextFeedRequest((r) => r.path === SNAPSHOT)
    expect(ready).toBe(false)
    expect(f.has('a')).toBe(false)
    exchange.snapshotFailure = undefined
    await retried
    await f.ready()
    expect(f.has('a')).toBe(true)
    expect(f.has('b')).toBe(true)
    expect(f.has('c')).toBe(false)
    expect(f.state()).toMatchObject({ revision: 2, size: 2 })
  })

  it('rejects ready() when closed before the snapshot arrived', async () => {
    exchange.snapshotFailure = 503
    const f = follow()
    await exchange.nextFeedRequest((r) => r.path === SNAPSHOT)
    await f.close()
    await expect(f.ready()).rejects.toThrow(/closed/)
  })
})

describe('createRevocationFollower: GET /brokers/:id/revocations/stream (SSE)', () => {
  it('emits revoked and unrevoked as events arrive on the stream', async () => {
    const opened = exchange.nextFeedRequest((r) => r.path === STREAM)
    const f = follow()
    await f.ready()
    expect(await opened).toEqual({ path: STREAM, lastEventId: '0' })
    const revoked = next(f, 'revoked', 'j1')
    exchange.revoke('j1')
    await revoked
    expect(f.has('j1')).toBe(true)
    const unrevoked = next(f, 'unrevoked', 'j1')
    exchange.unrevoke('j1')
    await unrevoked
    expect(f.has('j1')).toBe(false)
    expect(f.state()).toMatchObject({ revision: 2, mode: 'stream' })
  })

  it('resumes with Last-Event-ID after the server drops the stream, missing nothing', async () => {
    const opened = exchange.nextFeedRequest((r) => r.path === STREAM)
    const f = follow()
    await f.ready()
    await opened
    const first = next(f, 'revoked', 'j1')
    exchange.revoke('j1')
    await first
    const resumed = exchange.nextFeedRequest((r) => r.path === STREAM)
    exchange.dropStreams()
    // revoked while the broker is disconnected from the feed
    exchange.revoke('j2')
    exchange.revoke('j3')
    const missed = Promise.all([next(f, 'revoked', 'j2'), next(f, 'revoked', 'j3')])
    expect(await resumed).toEqual({ path: STREAM, lastEventId: '1' })
    await missed
    expect(f.state().revision).toBe(3)
    // the resume alone caught up: no poll, no second snapshot
    expect(exchange.feedRequests.filter((r) => r.path.includes('since=') || r.path === SNAPSHOT)).toHaveLength(1)
  })

  it('falls back to polling ?since=N while the stream cannot be opened, then returns to the stream', async () => {
    exchange.revoke('j1')
    exchange.streamFailure = 503
    const f = follow()
    await f.ready()
    const polled = exchange.nextFeedRequest((r) => r.path === `${SNAPSHOT}?since=1`)
    await polled
    const revoked = next(f, 'revoked', 'j2')
    exchange.revoke('j2')
    await revoked
    expect(f.state().mode).toBe('poll')
    const reopened = exchange.nextFeedRequest((r) => r.path === STREAM)
    exchange.streamFailure = undefined
    expect(await reopened).toEqual({ path: STREAM, lastEventId: '2' })
    const streamed = next(f, 'revoked', 'j3')
    exchange.revoke('j3')
    await streamed
    expect(f.state().mode).toBe('stream')
  })

  it('stops all requests on close()', async () => {
    const opened = exchange.nextFeedRequest((r) => r.path === STREAM)
    const f = follow()
    await f.ready()
    await opened
    await f.close()
    const count = exchange.feedRequests.length
    exchange.revoke('late')
    expect(f.has('late')).toBe(false)
    await exchange.streamsClosed()
    expect(exchange.feedRequests.length).toBe(count)
  })
})

describe('createRevocationFollower: retries (exponential back-off, full jitter)', () => {
  it('gives two followers different retry delays, each inside its doubling window', async () => {
    exchange.snapshotFailure = 503
    const a = recorder()
    const b = recorder()
    const retryMs = 40
    const maxRetryMs = 160
    const followers = [a, b].map(({ log }) => createRevocationFollower({ feedUrl: exchange.url, broker: BROKER, retryMs, maxRetryMs, log }))
    try {
      const retries = (lines: Line[]): number[] => lines.filter((l) => l.msg.startsWith('revocation snapshot failed')).map((l) => l.fields.retry_ms as number)
      // five failed snapshots each
      await Promise.all([a, b].map((r) => r.logged((lines) => retries(lines).length >= 5)))
      for (const r of [a, b]) {
        retries(r.lines)
          .slice(0, 5)
          .forEach((delay, i) => {
            expect(delay).toBeGreaterThanOrEqual(0)
            expect(delay).toBeLessThan(Math.min(maxRetryMs, retryMs * 2 ** i))
          })
      }
      expect(retries(a.lines).slice(0, 5)).not.toEqual(retries(b.lines).slice(0, 5))
    } finally {
      await Promise.all(followers.map((f) => f.close()))
    }
  })
})

describe("createRevocationFollower: the broker's feed credential", () => {
  it('sends it on the snapshot, the stream and the polls', async () => {
    exchange.feedCredential = 'feed-secret'
    const opened = exchange.nextFeedRequest((r) => r.path === STREAM)
    const f = follow({ credential: 'feed-secret' })
    await f.ready()
    await opened
    expect(exchange.feedRequests.map((r) => r.authorization)).toEqual(['Bearer feed-secret', 'Bearer feed-secret'])
    const revoked = next(f, 'revoked', 'j1')
    exchange.revoke('j1')
    await revoked
  })

  it('logs a refused credential at error once, keeps retrying, and follows once given the right one', async () => {
    exchange.feedCredential = 'new-secret'
    const { log, lines } = recorder()
    let credential = 'old-secret'
    const f = follow({ credential: () => credential, log })
    await exchange.nextFeedRequest((r) => r.path === SNAPSHOT)
    await exchange.nextFeedRequest((r) => r.path === SNAPSHOT)
    await exchange.nextFeedRequest((r) => r.path === SNAPSHOT)
    expect(lines.filter((l) => l.level === 'error')).toEqual([
      {
        level: 'error',
        msg: "revocation feed refused this broker's credential: give the broker its feed credential (see the exchange's feed-credential command)",
        fields: { broker: BROKER, code: 'ERR_UNAUTHENTICATED', status: 401, attempt: 1, retry_ms: expect.any(Number) },
      },
    ])
    credential = 'new-secret'
    await f.ready()
    expect(f.state().revision).toBe(0)
  })
})
