import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { until } from '@mqtt-oidc/test-support/until'
import { createSessionReporter, type SessionReporter } from '../src/create-session-reporter.js'

interface Received {
  readonly authorization: string | undefined
  readonly body: { node: string; seq: number; reset?: boolean; connected: Array<{ clientId: string }>; disconnected: string[] }
}

let server: Server
let url: string
let received: Received[]
let reporter: SessionReporter | undefined
let heartbeatSeconds = 60

beforeEach(async () => {
  received = []
  heartbeatSeconds = 60
  // The exchange's side of a report, as far as a node sees it: 200 with the heartbeat to use.
  server = createServer((req, res) => {
    let text = ''
    req
      .setEncoding('utf8')
      .on('data', (d: string) => {
        text += d
      })
      .on('end', () => {
        received.push({ authorization: req.headers.authorization, body: JSON.parse(text) as Received['body'] })
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ heartbeatSeconds }))
      })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})
afterEach(async () => {
  await reporter?.close()
  reporter = undefined
  await new Promise<void>((resolve) => server.close(() => resolve()))
})

const session = (clientId: string) => ({
  clientId,
  username: null,
  jti: `jti-${clientId}`,
  connectedAt: 1_800_000_000,
  expiresAt: null,
  remoteAddress: '127.0.0.1',
})

describe('createSessionReporter', () => {
  it('reports with the feed credential: everything first, then each change, numbered', async () => {
    reporter = createSessionReporter({ exchangeUrl: url, broker: 'demo', node: 'node-1', credential: 'feed-secret', batchMs: 1 })
    await until(async () => received.length === 1)
    const key = {}
    reporter.connected(key, session('gw-1'))
    await until(async () => received.length === 2)
    reporter.disconnected(key)
    await until(async () => received.length === 3)
    expect(
      received.map((r) => [r.authorization, r.body.seq, r.body.reset ?? false, r.body.connected.map((c) => c.clientId), r.body.disconnected.length]),
    ).toEqual([
      ['Bearer feed-secret', 1, true, [], 0],
      ['Bearer feed-secret', 2, false, ['gw-1'], 0],
      ['Bearer feed-secret', 3, false, [], 1],
    ])
  })

  it('sends a heartbeat when idle, as often as the exchange says, and a last report holding nothing when closed', async () => {
    heartbeatSeconds = 1
    reporter = createSessionReporter({ exchangeUrl: url, broker: 'demo', node: 'node-1' })
    await until(async () => received.length === 2)
    expect(received[1]!.body).toEqual({ node: 'node-1', seq: 2, reset: false, connected: [], disconnected: [] })
    await reporter.close()
    const count = received.length
    expect(received[count - 1]!.body).toEqual({ node: 'node-1', seq: count, reset: true, connected: [], disconnected: [] })
    reporter = undefined
  })

  it('leaves no listener behind on its own stop signal, however many reports a long-lived node sends', async () => {
    // Found by bench:session-drop: every idle wait added an abort listener that stayed until the node stopped
    // (Node warns past 10 on one signal); a node reporting for days holds thousands, each with its closure.
    const warnings: string[] = []
    const onWarning = (w: Error): void => {
      warnings.push(`${w.name}: ${w.message}`)
    }
    process.on('warning', onWarning)
    try {
      reporter = createSessionReporter({ exchangeUrl: url, broker: 'demo', node: 'node-1', batchMs: 1 })
      await until(async () => received.length === 1)
      for (let i = 0; i < 30; i++) {
        reporter.connected({}, session(`gw-${i}`))
        await until(async () => received.length === i + 2)
      }
      // A warning is emitted on the next tick.
      await new Promise((resolve) => setImmediate(resolve))
      expect(warnings.filter((w) => w.startsWith('MaxListenersExceededWarning'))).toEqual([])
    } finally {
      process.off('warning', onWarning)
    }
  })
})
