import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { decodeJwt } from 'jose'
import { ensureBroker } from '../src/ensure-broker.js'
import { startExchange } from './support/harness.js'
import type { Running } from './support/harness.js'
import { startTestIdp } from './support/test-idp.js'
import type { TestIdp } from './support/test-idp.js'

let idp: TestIdp
let ex: Running
let jtis: [string, string, string]
let exps: Record<string, number>

beforeAll(async () => { idp = await startTestIdp() })
afterAll(async () => { await idp.close() })
beforeEach(async () => {
  ex = await startExchange(idp)
  await ensureBroker(ex.store, { id: 'demo' })
  const res = await ex.api('POST', '/admin/brokers/demo/credentials', { number: 3, expiration: '1h' })
  const claims = Object.values(await res.json() as Record<string, string>).map((t) => decodeJwt(t))
  jtis = claims.map((c) => c.jti!) as [string, string, string]
  exps = Object.fromEntries(claims.map((c) => [c.jti!, c.exp!]))
})
afterEach(async () => { await ex.close() })

const revoke = (list: string[]): Promise<Response> => ex.api('POST', '/admin/brokers/demo/revocations', { jtis: list })
const unrevoke = (list: string[]): Promise<Response> => ex.api('DELETE', '/admin/brokers/demo/revocations', { jtis: list })
const getJson = async (path: string): Promise<{ status: number; body: unknown }> => {
  const res = await fetch(`${ex.url}${path}`)
  return { status: res.status, body: await res.json() }
}

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

describe('GET /brokers/:id/revocations (feed, no auth)', () => {
  it('serves a full snapshot with the revision', async () => {
    expect(await getJson('/brokers/demo/revocations')).toEqual({ status: 200, body: { broker: 'demo', revision: 0, revoked: [] } })
    await revoke([jtis[0], jtis[1]])
    await unrevoke([jtis[1]])
    expect(await getJson('/brokers/demo/revocations')).toEqual({
      status: 200, body: { broker: 'demo', revision: 3, revoked: [{ jti: jtis[0], expiresAt: exps[jtis[0]] }] },
    })
  })

  it('serves the events after a revision with ?since=N', async () => {
    await revoke([jtis[0], jtis[1]])
    await unrevoke([jtis[0]])
    expect(await getJson('/brokers/demo/revocations?since=1')).toEqual({
      status: 200,
      body: {
        broker: 'demo', revision: 3, events: [
          { revision: 2, jti: jtis[1], action: 'revoke', expiresAt: exps[jtis[1]] },
          { revision: 3, jti: jtis[0], action: 'unrevoke', expiresAt: exps[jtis[0]] },
        ],
      },
    })
    expect(await getJson('/brokers/demo/revocations?since=3')).toEqual({ status: 200, body: { broker: 'demo', revision: 3, events: [] } })
  })

  it('answers 404 for an unknown broker and 400 for a bad since', async () => {
    expect(await getJson('/brokers/ghost/revocations'))
      .toEqual({ status: 404, body: { error: 'not_found', error_description: 'unknown broker "ghost"' } })
    expect(await getJson('/brokers/demo/revocations?since=-4'))
      .toEqual({ status: 400, body: { error: 'invalid_request', error_description: 'since must be a revision number (0 or more)' } })
  })
})

describe('GET /brokers/:id/revocations/stream (SSE)', () => {
  it('resumes after Last-Event-ID and pushes an event committed after connecting', async () => {
    await revoke([jtis[0]])
    await revoke([jtis[1]])
    const controller = new AbortController()
    const res = await fetch(`${ex.url}/brokers/demo/revocations/stream`, { headers: { 'last-event-id': '1' }, signal: controller.signal })
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
    const res = await fetch(`${ex.url}/brokers/demo/revocations/stream?since=0`, { signal: controller.signal })
    expect(await sseReader(res).until((t) => t.includes('id: 1\n'))).toBe(`: connected broker=demo revision=0\n\n${sse(1, 'revoke', jtis[0])}`)
    controller.abort()
    const again = new AbortController()
    const res2 = await fetch(`${ex.url}/brokers/demo/revocations/stream?since=1`, { signal: again.signal })
    const reading = sseReader(res2).until((t) => t.includes('id: 2\n'))
    await unrevoke([jtis[0]])
    const text = await reading
    again.abort()
    expect(text).toBe(`: connected broker=demo revision=1\n\n${sse(2, 'unrevoke', jtis[0])}`)
  })

  it('without a resume point starts at the current revision', async () => {
    await revoke([jtis[0]])
    const controller = new AbortController()
    const res = await fetch(`${ex.url}/brokers/demo/revocations/stream`, { signal: controller.signal })
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
    const controller = new AbortController()
    const res = await fetch(`${ex.url}/brokers/demo/revocations/stream`, { signal: controller.signal })
    const text = await sseReader(res).until((t) => t.includes(': keepalive\n\n'))
    controller.abort()
    expect(text).toBe(': connected broker=demo revision=0\n\n: keepalive\n\n')
  })

  it('ends open streams when the exchange closes', async () => {
    const res = await fetch(`${ex.url}/brokers/demo/revocations/stream`)
    const reader = res.body!.getReader()
    await reader.read()
    await ex.close() // afterEach's second close is a no-op
    let ended = false
    while (!ended) ended = (await reader.read()).done
    expect(ended).toBe(true)
  })
})
