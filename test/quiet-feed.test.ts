import { connectAsync } from 'mqtt'
import { pino } from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createEmqxHookServer } from '@mqtt-oidc/broker'
import { createAdminClient } from '@mqtt-oidc/client'
import { startTestStack, type TestStack } from './support/start-test-stack.js'

// A stack left alone: no revocation for longer than the broker's feed
// staleness limit. The exchange's keepalives are the only thing on the
// revocation stream; they must count as contact, or a healthy broker starts
// refusing every new client (CONNACK 3) once the limit has passed.

const KEEPALIVE_MS = 100
const FEED_MAX_STALE_MS = 600

let stack: TestStack

beforeAll(async () => {
  stack = await startTestStack({ keepaliveMs: KEEPALIVE_MS, feedMaxStaleMs: FEED_MAX_STALE_MS })
}, 60_000)

afterAll(async () => {
  await stack?.close()
})

describe('a quiet revocation feed', () => {
  it('keeps accepting new clients after a quiet spell three times longer than the staleness limit', async () => {
    const creds = await createAdminClient({ dataDir: stack.dataDir }).issueCredentials('demo', { clientIds: ['quiet-1'], expiration: '15m' })
    const password = creds['quiet-1']!
    // three staleness limits of silence: only keepalives travel on the stream
    await new Promise((resolve) => setTimeout(resolve, 3 * FEED_MAX_STALE_MS))
    const client = await connectAsync(stack.mqttUrl, { clientId: 'quiet-1', username: 'quiet-1', password, reconnectPeriod: 0, protocolVersion: 4 })
    expect(client.connected).toBe(true)
    await client.endAsync()
  })

  it('keeps the EMQX hook allowing new clients after the same quiet spell', async () => {
    await createAdminClient({ dataDir: stack.dataDir }).createBroker('emqx-quiet', {})
    const hook = createEmqxHookServer({
      brokerId: 'emqx-quiet',
      exchangeUrl: stack.exchangeUrl,
      port: 0,
      feedMaxStaleMs: FEED_MAX_STALE_MS,
      logger: pino({ level: 'silent' }),
      feedCredentialFile: await stack.feedCredentialFile('emqx-quiet'),
    })
    try {
      const { url } = await hook.listen()
      const creds = await createAdminClient({ dataDir: stack.dataDir }).issueCredentials('emqx-quiet', { clientIds: ['quiet-2'], expiration: '15m' })
      await new Promise((resolve) => setTimeout(resolve, 3 * FEED_MAX_STALE_MS))
      const res = await fetch(`${url}/emqx/authn`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ clientid: 'quiet-2', username: 'quiet-2', password: creds['quiet-2'], peerhost: '127.0.0.1' }),
      })
      expect(await res.json()).toMatchObject({ result: 'allow' })
    } finally {
      await hook.close()
    }
  })
})
