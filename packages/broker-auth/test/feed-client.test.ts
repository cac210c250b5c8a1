import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { catchUp } from '../src/lib/catch-up.js'
import { createFeedClient, FeedHttpError } from '../src/lib/feed-client.js'
import type { FeedClient } from '../src/lib/feed-client.js'
import { createRevocationState } from '../src/lib/revocation-state.js'
import { startFakeExchange } from '@mqtt-oidc/test-support/fake-exchange'
import type { FakeExchange } from '@mqtt-oidc/test-support/fake-exchange'

const BROKER = 'demo'
let exchange: FakeExchange
let stop: AbortController
let contacts: number

function client(credential: () => string | undefined = () => undefined): FeedClient {
  return createFeedClient({
    feedUrl: exchange.url,
    broker: BROKER,
    fetch,
    credential,
    requestTimeoutMs: 5000,
    signal: stop.signal,
    onContact: () => contacts++,
  })
}

beforeEach(async () => {
  exchange = await startFakeExchange({ broker: BROKER })
  stop = new AbortController()
  contacts = 0
})
afterEach(async () => {
  stop.abort()
  await exchange.close()
})

describe("createFeedClient: the broker's credential", () => {
  it('sends the credential as a Bearer token, read anew for each request', async () => {
    let current = 'first'
    const feed = client(() => current)
    await feed.snapshot()
    current = 'second'
    await feed.since(0)
    expect(exchange.feedRequests.map((r) => r.authorization)).toEqual(['Bearer first', 'Bearer second'])
    expect(contacts).toBe(2)
  })

  it('sends no Authorization header without a credential', async () => {
    await client().snapshot()
    expect(exchange.feedRequests[0]?.authorization).toBeUndefined()
  })

  it('rejects with FeedHttpError 401 when the exchange refuses the credential, and counts no contact', async () => {
    exchange.feedCredential = 'right'
    const err = await client(() => 'wrong')
      .snapshot()
      .catch((e: unknown) => e)
    expect(err).toBeInstanceOf(FeedHttpError)
    expect((err as FeedHttpError).status).toBe(401)
    expect(contacts).toBe(0)
    const opening = await client(() => 'wrong').openStream(0, new AbortController().signal)
    expect(opening).toEqual({ ok: false, status: 401 })
  })
})

describe('catchUp (?since=N pages)', () => {
  it('applies the events after our revision', async () => {
    exchange.revoke('a')
    exchange.revoke('b')
    const state = createRevocationState(() => {}, {})
    await catchUp(client(), state)
    expect({ revision: state.revision, a: state.has('a'), b: state.has('b') }).toEqual({ revision: 2, a: true, b: true })
  })

  it('reloads the snapshot when the feed is behind our revision (its history was reset)', async () => {
    exchange.revoke('x')
    const state = createRevocationState(() => {}, {})
    state.load({ revision: 10, revoked: [{ jti: 'old', expiresAt: null }] })
    await catchUp(client(), state)
    expect({ revision: state.revision, old: state.has('old'), x: state.has('x') }).toEqual({ revision: 1, old: false, x: true })
    expect(exchange.feedRequests.map((r) => r.path)).toEqual([`/brokers/${BROKER}/revocations?since=10`, `/brokers/${BROKER}/revocations`])
  })
})
