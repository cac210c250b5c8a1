/**
 * The EMQX hook reports what it can see to the exchange: the sessions it
 * authenticated, gone once their jti is revoked or they authenticate again.
 * Requests are sent as EMQX 5 sends them (apps/broker/EMQX.md's templates);
 * the exchange and the hook are the real ones.
 */
import { decodeJwt } from 'jose'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createEmqxHookServer, type EmqxHookServer } from '@mqtt-oidc/broker'
import { adminApi, type AdminApi } from './support/admin-api.js'
import { startTestStack, type TestStack } from './support/start-test-stack.js'
import { until } from '@mqtt-oidc/test-support/until'

let stack: TestStack
let admin: AdminApi
let hook: EmqxHookServer
let hookUrl: string

beforeAll(async () => {
  stack = await startTestStack()
  admin = adminApi(stack.dataDir, stack.exchangeUrl)
  await admin.send('POST', '/admin/brokers', { id: 'emqx' })
  const { feedCredential } = await admin.send<{ feedCredential: string }>('POST', '/admin/brokers/emqx/feed-credential')
  hook = createEmqxHookServer({ brokerId: 'emqx', exchangeUrl: stack.exchangeUrl, feedCredential, nodeId: 'emqx-hook-1', port: 0 })
  hookUrl = (await hook.listen()).url
}, 30_000)
afterAll(async () => {
  await hook?.close()
  await stack?.close()
})

const authn = async (clientid: string, password: string, peerhost = '198.51.100.7') =>
  (
    await fetch(`${hookUrl}/emqx/authn`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ clientid, username: clientid, password, peerhost }),
    })
  ).json() as Promise<{ result: string }>
const listed = async () => (await admin.get<{ sessions: Array<Record<string, unknown>> }>('/admin/brokers/emqx/sessions')).sessions

describe('session reports from the EMQX hook', () => {
  it("lists an authenticated EMQX client with EMQX's peer address, and drops it when its jti is revoked", async () => {
    const issued = await admin.send<Record<string, string>>('POST', '/admin/brokers/emqx/credentials', { clientIds: ['emqx-gw-1'], expiration: '1h' })
    const token = issued['emqx-gw-1']!
    const { jti, exp } = decodeJwt(token)
    expect(await authn('emqx-gw-1', token)).toMatchObject({ result: 'allow' })
    await until(async () => (await listed()).length === 1)
    expect(await listed()).toEqual([
      {
        node: 'emqx-hook-1',
        clientId: 'emqx-gw-1',
        username: null,
        jti,
        connectedAt: expect.any(Number),
        expiresAt: exp,
        remoteAddress: '198.51.100.7',
      },
    ])
    await admin.send('POST', '/admin/brokers/emqx/revocations', { jtis: [jti] })
    await until(async () => (await listed()).length === 0)
  })

  it('forgets a client id whose new authentication is refused', async () => {
    const issued = await admin.send<Record<string, string>>('POST', '/admin/brokers/emqx/credentials', { clientIds: ['emqx-gw-2'], expiration: '1h' })
    await authn('emqx-gw-2', issued['emqx-gw-2']!)
    await until(async () => (await listed()).length === 1)
    expect(await authn('emqx-gw-2', 'not-a-token')).toEqual({ result: 'deny' })
    await until(async () => (await listed()).length === 0)
  })
})
