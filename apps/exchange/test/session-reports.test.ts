import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { pino } from 'pino'
import { ensureBroker } from '../src/ensure-broker.js'
import { startExchange } from './support/harness.js'
import type { Running } from './support/harness.js'
import { now as wallClock, startTestIdp } from '@mqtt-oidc/test-support/test-idp'
import type { TestIdp } from '@mqtt-oidc/test-support/test-idp'

// Broker nodes report their sessions with their broker's feed credential;
// admins read them (GET /admin/brokers/:id/sessions, and its SSE stream).

let idp: TestIdp
let ex: Running
let clock = 1_800_000_000
const lines: string[] = []

beforeAll(async () => {
  idp = await startTestIdp()
})
afterAll(async () => {
  await idp.close()
})
beforeEach(async () => {
  clock = 1_800_000_000
  lines.length = 0
  const logger = pino(
    { level: 'info' },
    {
      write: (line: string) => {
        lines.push(line)
      },
    },
  )
  ex = await startExchange(idp, { now: () => clock, sessionHeartbeatSeconds: 10, maxReportingNodes: 2, maxReportedSessions: 3, logger })
  await ensureBroker(ex.store, { id: 'demo' })
  await ensureBroker(ex.store, { id: 'other' })
})
afterEach(async () => {
  await ex.close()
})

async function feedCredential(broker: string): Promise<string> {
  const res = await ex.api('POST', `/admin/brokers/${broker}/feed-credential`)
  return ((await res.json()) as { feedCredential: string }).feedCredential
}

const session = (connection: string, fields: Record<string, unknown> = {}) => ({
  connection,
  clientId: `client-${connection}`,
  username: null,
  jti: `jti-${connection}`,
  connectedAt: clock,
  expiresAt: clock + 600,
  remoteAddress: '192.0.2.7',
  ...fields,
})

async function report(
  credential: string,
  body: Record<string, unknown>,
  broker = 'demo',
): Promise<{ status: number; retryAfter: string | null; body: unknown }> {
  const res = await fetch(`${ex.url}/brokers/${broker}/sessions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${credential}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  })
  return { status: res.status, retryAfter: res.headers.get('retry-after'), body: await res.json() }
}

async function sessions(query = ''): Promise<Record<string, unknown>> {
  const res = await ex.api('GET', `/admin/brokers/demo/sessions${query}`)
  expect(res.status).toBe(200)
  return (await res.json()) as Record<string, unknown>
}

describe('POST /brokers/:id/sessions (a node reports)', () => {
  it('records a reset and the changes after it, and answers with the heartbeat the node keeps', async () => {
    const credential = await feedCredential('demo')
    expect(
      await report(credential, { node: 'node-a', seq: 1, reset: true, connected: [session('1'), session('2', { clientId: 'gw-2', username: 'alice' })] }),
    ).toEqual({ status: 200, retryAfter: null, body: { applied: true, revision: 1, sessions: 2, heartbeatSeconds: 10 } })
    clock += 1
    expect((await report(credential, { node: 'node-a', seq: 2, disconnected: ['1'] })).body).toEqual({
      applied: true,
      revision: 2,
      sessions: 1,
      heartbeatSeconds: 10,
    })
    expect(await sessions()).toEqual({
      broker: 'demo',
      revision: 2,
      heartbeatSeconds: 10,
      nodes: [{ node: 'node-a', reportedAt: clock, sessions: 1 }],
      sessions: [
        { node: 'node-a', clientId: 'gw-2', username: 'alice', jti: 'jti-2', connectedAt: 1_800_000_000, expiresAt: 1_800_000_600, remoteAddress: '192.0.2.7' },
      ],
      truncated: false,
    })
  })

  it("answers one 401 for no credential, a wrong one and another broker's, and writes nothing", async () => {
    const other = await feedCredential('other')
    await feedCredential('demo')
    const body = { node: 'n', seq: 1, reset: true, connected: [session('1')] }
    const refused = {
      status: 401,
      retryAfter: null,
      body: { error: 'invalid_token', error_description: 'a valid feed credential for this broker is required' },
    }
    expect(await report('mqof_wrong', body)).toEqual(refused)
    expect(await report(other, body)).toEqual(refused)
    expect(await report(other, body, 'nope')).toEqual(refused)
    expect((await fetch(`${ex.url}/brokers/demo/sessions`, { method: 'POST' })).status).toBe(401)
    expect((await sessions()).sessions).toEqual([])
  })

  it('refuses a report out of sequence with 409, so the node resends everything with reset', async () => {
    const credential = await feedCredential('demo')
    expect(await report(credential, { node: 'n', seq: 4, connected: [session('1')] })).toEqual({
      status: 409,
      retryAfter: null,
      body: { error: 'conflict', error_description: 'report 4 of node "n" is out of sequence; send all sessions with reset' },
    })
    await report(credential, { node: 'n', seq: 1, reset: true })
    expect((await report(credential, { node: 'n', seq: 3 })).body).toEqual({
      error: 'conflict',
      error_description: 'report 3 of node "n" is out of sequence (expected 2); send all sessions with reset',
    })
  })

  it('caps sessions per report, nodes and sessions per broker (429, nothing written)', async () => {
    const credential = await feedCredential('demo')
    const many = Array.from({ length: 501 }, (_, i) => String(i))
    expect(await report(credential, { node: 'n', seq: 1, reset: true, disconnected: many })).toEqual({
      status: 400,
      retryAfter: null,
      body: {
        error: 'invalid_request',
        error_description: 'a report carries at most 500 sessions (connected and disconnected); send the rest in the next one',
      },
    })
    await report(credential, { node: 'a', seq: 1, reset: true, connected: [session('1'), session('2')] })
    await report(credential, { node: 'b', seq: 1, reset: true })
    expect(await report(credential, { node: 'c', seq: 1, reset: true })).toEqual({
      status: 429,
      retryAfter: '40',
      body: { error: 'slow_down', error_description: 'broker "demo" already has 2 reporting nodes; nothing was recorded' },
    })
    expect(await report(credential, { node: 'b', seq: 2, connected: [session('3'), session('4')] })).toEqual({
      status: 429,
      retryAfter: '40',
      body: { error: 'slow_down', error_description: 'broker "demo" would have more than 3 reported sessions; nothing was recorded' },
    })
    expect((await sessions()).sessions as unknown[]).toHaveLength(2)
  })

  it('refuses malformed reports, naming the field', async () => {
    const credential = await feedCredential('demo')
    expect((await report(credential, { node: 'has space', seq: 1 })).body).toEqual({
      error: 'invalid_request',
      error_description: 'node must be 1 to 128 printable ASCII characters',
    })
    expect((await report(credential, { node: 'n', seq: 1, reset: true, connected: [{ ...session('1'), password: 'x' }] })).status).toBe(400)
  })
})

describe('GET /admin/brokers/:id/sessions', () => {
  it('hides a node silent for three heartbeats, filters, and marks a truncated list', async () => {
    const credential = await feedCredential('demo')
    await report(credential, {
      node: 'a',
      seq: 1,
      reset: true,
      connected: [session('1', { clientId: 'gw-1' }), session('2', { clientId: 'sensor-2', connectedAt: clock + 1 })],
    })
    clock += 25
    await report(credential, { node: 'b', seq: 1, reset: true, connected: [session('9', { clientId: 'gw-9' })] })
    expect(((await sessions('?search=gw')).sessions as Array<{ clientId: string }>).map((s) => s.clientId)).toEqual(['gw-9', 'gw-1'])
    expect(await sessions('?node=a&limit=1')).toMatchObject({ sessions: [{ clientId: 'sensor-2' }], truncated: true })
    clock += 6 // node a last reported 31 s ago: more than 3 heartbeats of 10 s
    expect(await sessions()).toMatchObject({ nodes: [{ node: 'b' }], sessions: [{ clientId: 'gw-9' }] })
  })
})

describe('GET /admin/brokers/:id/sessions/stream', () => {
  it('sends the sessions at once and again after each reported change, and ends when the access token expires', async () => {
    const credential = await feedCredential('demo')
    const token = await idp.accessToken(ex.exchange.issuer, { exp: wallClock() + 2 })
    const res = await fetch(`${ex.url}/admin/brokers/demo/sessions/stream`, { headers: { authorization: `Bearer ${token}` } })
    expect(res.headers.get('content-type')).toBe('text/event-stream; charset=utf-8')
    const events = readEvents(res)
    expect(await events.next()).toMatchObject({ sessions: [], nodes: [] })
    await report(credential, { node: 'a', seq: 1, reset: true, connected: [session('1')] })
    expect(await events.next()).toMatchObject({ revision: 1, sessions: [{ clientId: 'client-1' }] })
    await report(credential, { node: 'a', seq: 2, disconnected: ['1'] })
    expect(await events.next()).toMatchObject({ revision: 2, sessions: [] })
    // The token expires within 2 s: the stream ends (the console reconnects with a fresh one).
    expect(await events.next()).toBeUndefined()
  })
})

describe('audit', () => {
  it('names the person acting through the console: username, account id and the app', async () => {
    const person = await idp.accessToken(ex.exchange.issuer, { sub: '01PERSONACCOUNT', client_id: 'mqtt-oidc-console', username: 'alice' })
    expect((await ex.api('GET', '/admin/brokers/demo/sessions', undefined, person)).status).toBe(200)
    const audits = lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((r) => r.audit === true)
    expect((await ex.api('GET', '/admin/brokers/demo/sessions')).status).toBe(200)
    expect(audits.map(({ who, sub, via, action, broker }) => ({ who, sub, via, action, broker }))).toEqual([
      { who: 'alice', sub: '01PERSONACCOUNT', via: 'mqtt-oidc-console', action: 'sessions.list', broker: 'demo' },
    ])
    // A client's own token (client credentials) is named by its client id, as before.
    const again = lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((r) => r.audit === true)
    expect(again[1]).toMatchObject({ who: 'mqtt-oidc-admin', action: 'sessions.list' })
    expect(again[1]).not.toHaveProperty('via')
  })
})

/** The `sessions` events of an SSE response, parsed; next() gives undefined once the stream ended. */
function readEvents(res: Response): { next(): Promise<Record<string, unknown> | undefined> } {
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader()
  let buffer = ''
  return {
    async next() {
      for (;;) {
        const m = /event: sessions\ndata: (.*)\n\n/.exec(buffer)
        if (m) {
          buffer = buffer.slice(m.index + m[0].length)
          return JSON.parse(m[1]!) as Record<string, unknown>
        }
        const { done, value } = await reader.read()
        if (done) return undefined
        buffer += value
      }
    },
  }
}
