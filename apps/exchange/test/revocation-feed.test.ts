import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { decodeJwt } from 'jose'
import { ensureBroker } from '../src/ensure-broker.js'
import { startExchange } from './support/harness.js'
import type { Running } from './support/harness.js'
import { startTestIdp } from '@mqtt-oidc/test-support/test-idp'
import type { TestIdp } from '@mqtt-oidc/test-support/test-idp'

let idp: TestIdp
let ex: Running
let jtis: [string, string, string]
let exps: Record<string, number>
/** The demo broker's feed credential. */
let feed: string

beforeAll(async () => {
  idp = await startTestIdp()
})
afterAll(async () => {
  await idp.close()
})
beforeEach(async () => {
  ex = await startExchange(idp)
  await ensureBroker(ex.store, { id: 'demo' })
  const res = await ex.api('POST', '/admin/brokers/demo/credentials', { number: 3, expiration: '1h' })
  const claims = Object.values((await res.json()) as Record<string, string>).map((t) => decodeJwt(t))
  jtis = claims.map((c) => c.jti!) as [string, string, string]
  exps = Object.fromEntries(claims.map((c) => [c.jti!, c.exp!]))
  feed = await issueFeed('demo')
})
afterEach(async () => {
  await ex.close()
})

const revoke = (list: string[]): Promise<Response> => ex.api('POST', '/admin/brokers/demo/revocations', { jtis: list })
const unrevoke = (list: string[]): Promise<Response> => ex.api('DELETE', '/admin/brokers/demo/revocations', { jtis: list })
/** Issues (rotates) a broker's feed credential through the admin API. */
const issueFeed = async (broker: string): Promise<string> => {
  const res = await ex.api('POST', `/admin/brokers/${broker}/feed-credential`)
  expect(res.status).toBe(201)
  return ((await res.json()) as { feedCredential: string }).feedCredential
}
const bearer = (credential = feed): Record<string, string> => ({ authorization: `Bearer ${credential}` })
const getJson = async (path: string, headers: Record<string, string> = bearer()): Promise<{ status: number; body: unknown }> => {
  const res = await fetch(`${ex.url}${path}`, { headers })
  return { status: res.status, body: await res.json() }
}
/** Opens a stream with the demo credential (or other headers). */
const openStream = (path: string, signal?: AbortSignal, headers: Record<string, string> = {}): Promise<Response> =>
  fetch(`${ex.url}${path}`, { headers: { ...bearer(), ...headers }, signal })

/** Reads an SSE body incrementally; `until` resolves once the text so far satisfies `done` (no sleeping). */
function sseReader(res: Response): { until(done: (text: string) => boolean): Promise<string> } {
  const reader = res.body!.getReader()
  const decoder = new TextDecoder()
  let text = ''
  return {
    async until(done) {
      while (!done(text)) {
        const { value, done: ended } = await reader.read()
        if (ended) throw new Error(`stream ended early after: ${text}`)
        text += decoder.decode(value, { stream: true })
      }
      return text
    },
  }
}

const sse = (revision: number, action: string, jti: string): string =>
  `id: ${revision}\nevent: ${action}\ndata: ${JSON.stringify({ jti, expiresAt: exps[jti] })}\n\n`

describe('GET /brokers/:id/revocations (feed)', () => {
  it('serves a full snapshot with the revision', async () => {
    expect(await getJson('/brokers/demo/revocations')).toEqual({ status: 200, body: { broker: 'demo', revision: 0, revoked: [] } })
    await revoke([jtis[0], jtis[1]])
    await unrevoke([jtis[1]])
    expect(await getJson('/brokers/demo/revocations')).toEqual({
      status: 200,
      body: { broker: 'demo', revision: 3, revoked: [{ jti: jtis[0], expiresAt: exps[jtis[0]] }] },
    })
  })

  it('serves the events after a revision with ?since=N', async () => {
    await revoke([jtis[0], jtis[1]])
    await unrevoke([jtis[0]])
    expect(await getJson('/brokers/demo/revocations?since=1')).toEqual({
      status: 200,
      body: {
        broker: 'demo',
        revision: 3,
        events: [
          { revision: 2, jti: jtis[1], action: 'revoke', expiresAt: exps[jtis[1]] },
          { revision: 3, jti: jtis[0], action: 'unrevoke', expiresAt: exps[jtis[0]] },
        ],
      },
    })
    expect(await getJson('/brokers/demo/revocations?since=3')).toEqual({ status: 200, body: { broker: 'demo', revision: 3, events: [] } })
  })

  it('answers 400 for a bad since', async () => {
    expect(await getJson('/brokers/demo/revocations?since=-4')).toEqual({
      status: 400,
      body: { error: 'invalid_request', error_description: 'since must be a revision number (0 or more)' },
    })
  })
})

describe('GET /brokers/:id/revocations/stream (SSE)', () => {
  it('resumes after Last-Event-ID and pushes an event committed after connecting', async () => {
    await revoke([jtis[0]])
    await revoke([jtis[1]])
    const controller = new AbortController()
    const res = await openStream('/brokers/demo/revocations/stream', controller.signal, { 'last-event-id': '1' })
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toBe('text/event-stream; charset=utf-8')
    expect(res.headers.get('x-accel-buffering')).toBe('no')
    expect(res.headers.get('cache-control')).toBe('no-store')
    const stream = sseReader(res)
    // Seeing the replay of revision 2 proves the stream is live before the next change is made.
    expect(await stream.until((t) => t.includes('id: 2\n'))).toBe(`: connected broker=demo revision=1\n\n${sse(2, 'revoke', jtis[1])}`)
    await revoke([jtis[2]])
    const text = await stream.until((t) => t.includes('id: 3\n'))
    controller.abort()
    expect(text).toBe(`: connected broker=demo revision=1\n\n${sse(2, 'revoke', jtis[1])}${sse(3, 'revoke', jtis[2])}`)
  })

  it('resumes from ?since=N and streams an unrevoke', async () => {
    await revoke([jtis[0]])
    const controller = new AbortController()
    const res = await openStream('/brokers/demo/revocations/stream?since=0', controller.signal)
    expect(await sseReader(res).until((t) => t.includes('id: 1\n'))).toBe(`: connected broker=demo revision=0\n\n${sse(1, 'revoke', jtis[0])}`)
    controller.abort()
    const again = new AbortController()
    const res2 = await openStream('/brokers/demo/revocations/stream?since=1', again.signal)
    const reading = sseReader(res2).until((t) => t.includes('id: 2\n'))
    await unrevoke([jtis[0]])
    const text = await reading
    again.abort()
    expect(text).toBe(`: connected broker=demo revision=1\n\n${sse(2, 'unrevoke', jtis[0])}`)
  })

  it('without a resume point starts at the current revision', async () => {
    await revoke([jtis[0]])
    const controller = new AbortController()
    const res = await openStream('/brokers/demo/revocations/stream', controller.signal)
    const reading = sseReader(res).until((t) => t.includes('id: 2\n'))
    await revoke([jtis[1]])
    const text = await reading
    controller.abort()
    expect(text).toBe(`: connected broker=demo revision=1\n\n${sse(2, 'revoke', jtis[1])}`)
  })

  it('sends keepalive comments', async () => {
    await ex.close()
    ex = await startExchange(idp, { keepaliveMs: 50 })
    await ensureBroker(ex.store, { id: 'demo' })
    feed = await issueFeed('demo')
    const controller = new AbortController()
    const res = await openStream('/brokers/demo/revocations/stream', controller.signal)
    const text = await sseReader(res).until((t) => t.includes(': keepalive\n\n'))
    controller.abort()
    expect(text).toBe(': connected broker=demo revision=0\n\n: keepalive\n\n')
  })

  it('ends open streams when the exchange closes', async () => {
    const res = await openStream('/brokers/demo/revocations/stream')
    const reader = res.body!.getReader()
    await reader.read()
    await ex.close() // afterEach's second close is a no-op
    let ended = false
    while (!ended) ended = (await reader.read()).done
    expect(ended).toBe(true)
  })
})

/** Status, WWW-Authenticate and body of a feed answer: what a caller can tell apart. */
async function answer(path: string, headers: Record<string, string> = {}): Promise<unknown> {
  const res = await fetch(`${ex.url}${path}`, { headers })
  return { status: res.status, challenge: res.headers.get('www-authenticate'), body: await res.json() }
}
const REFUSED = {
  status: 401,
  challenge: 'Bearer realm="mqtt-oidc-feed", error="invalid_token"',
  body: { error: 'invalid_token', error_description: 'a valid feed credential for this broker is required' },
}

describe('the feed credential (each broker reads its own feed only)', () => {
  it("refuses a request without a credential, a wrong one, and another broker's, with one answer whether the broker exists or not", async () => {
    await ensureBroker(ex.store, { id: 'other' })
    const others = await issueFeed('other')
    for (const path of [
      '/brokers/demo/revocations',
      '/brokers/demo/revocations?since=0',
      '/brokers/demo/revocations/stream',
      '/brokers/ghost/revocations',
      '/brokers/ghost/revocations/stream',
    ]) {
      expect(await answer(path)).toEqual(REFUSED)
      expect(await answer(path, { authorization: 'Bearer mqof_not-it' })).toEqual(REFUSED)
      expect(await answer(path, { authorization: `Bearer ${others}` })).toEqual(REFUSED)
      expect(await answer(path, { authorization: `Basic ${Buffer.from(`demo:${feed}`).toString('base64')}` })).toEqual(REFUSED)
    }
    expect(await getJson('/brokers/other/revocations', bearer(others))).toEqual({ status: 200, body: { broker: 'other', revision: 0, revoked: [] } })
  })

  it('rotates: the new credential reads, the old one no longer does, and its open stream is ended', async () => {
    const old = feed
    const res = await openStream('/brokers/demo/revocations/stream')
    const reader = res.body!.getReader()
    await reader.read()
    const rotated = await issueFeed('demo')
    let ended = false
    while (!ended) ended = (await reader.read()).done
    expect(await answer('/brokers/demo/revocations', bearer(old))).toEqual(REFUSED)
    expect((await getJson('/brokers/demo/revocations', bearer(rotated))).status).toBe(200)
  })

  it('is not inherited by a broker deleted and created again under the same id', async () => {
    await ex.store.brokers.delete('demo', Math.floor(Date.now() / 1000))
    await ensureBroker(ex.store, { id: 'demo' }, Math.floor(Date.now() / 1000) + 5)
    expect(await answer('/brokers/demo/revocations', bearer())).toEqual(REFUSED)
  })

  it('is issued only to an admin who may act on that broker', async () => {
    expect((await fetch(`${ex.url}/admin/brokers/demo/feed-credential`, { method: 'POST' })).status).toBe(401)
    const res = await ex.api('POST', '/admin/brokers/ghost/feed-credential')
    expect({ status: res.status, body: await res.json() }).toEqual({ status: 404, body: { error: 'not_found', error_description: 'unknown broker "ghost"' } })
  })
})

describe('stream caps', () => {
  it('answers 429 past the per-broker cap and 503 past the total one, with Retry-After', async () => {
    await ex.close()
    ex = await startExchange(idp, { maxFeedStreams: 3, maxFeedStreamsPerBroker: 2 })
    await Promise.all(['demo', 'b2', 'b3'].map((id) => ensureBroker(ex.store, { id })))
    feed = await issueFeed('demo')
    const [f2, f3] = [await issueFeed('b2'), await issueFeed('b3')]
    const controller = new AbortController()
    const open = async (broker: string, credential: string): Promise<Response> =>
      fetch(`${ex.url}/brokers/${broker}/revocations/stream`, { headers: bearer(credential), signal: controller.signal })
    try {
      expect((await open('demo', feed)).status).toBe(200)
      expect((await open('demo', feed)).status).toBe(200)
      const perBroker = await open('demo', feed)
      expect({ status: perBroker.status, retryAfter: perBroker.headers.get('retry-after'), body: await perBroker.json() }).toEqual({
        status: 429,
        retryAfter: '30',
        body: { error: 'slow_down', error_description: 'broker "demo" already has 2 revocation streams open; close one, or poll ?since=N' },
      })
      expect((await open('b2', f2)).status).toBe(200)
      const total = await open('b3', f3)
      expect({ status: total.status, retryAfter: total.headers.get('retry-after'), body: await total.json() }).toEqual({
        status: 503,
        retryAfter: '30',
        body: { error: 'temporarily_unavailable', error_description: 'this exchange holds as many revocation streams as it may; poll ?since=N or retry later' },
      })
      // polling stays open to every broker with its credential
      expect((await getJson('/brokers/b3/revocations?since=0', bearer(f3))).status).toBe(200)
    } finally {
      controller.abort()
    }
  })
})

describe('GET /brokers/:id/token-status (a token holder asks about its own token)', () => {
  it('tells the holder of a broker token whether it is revoked', async () => {
    const res = await ex.api('POST', '/admin/brokers/demo/credentials', { clientIds: ['holder'], expiration: '1h' })
    const token = ((await res.json()) as Record<string, string>).holder!
    const jti = decodeJwt(token).jti!
    const status = (t: string, broker = 'demo'): Promise<unknown> => answerOf(`/brokers/${broker}/token-status`, { authorization: `Bearer ${t}` })
    expect(await status(token)).toEqual({ status: 200, body: { broker: 'demo', jti, revoked: false } })
    await revoke([jti])
    expect(await status(token)).toEqual({ status: 200, body: { broker: 'demo', jti, revoked: true } })
    const refused = { status: 401, body: { error: 'invalid_token', error_description: 'present a broker token this exchange issued for this broker' } }
    await ensureBroker(ex.store, { id: 'other' })
    expect(await status(token, 'other')).toEqual(refused)
    expect(await status(token, 'ghost')).toEqual(refused)
    expect(await status(`${token.slice(0, -4)}AAAA`)).toEqual(refused)
    expect(await status('garbage')).toEqual(refused)
    expect(await answerOf('/brokers/demo/token-status')).toEqual(refused)
  })
})

async function answerOf(path: string, headers: Record<string, string> = {}): Promise<unknown> {
  const res = await fetch(`${ex.url}${path}`, { headers })
  return { status: res.status, body: await res.json() }
}
