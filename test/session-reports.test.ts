/**
 * The aedes broker reports its sessions to the exchange (POST
 * /brokers/:id/sessions with its feed credential) and the admin API lists
 * them: real mqtt.js clients on the embedded stack's broker.
 */
import { decodeJwt } from 'jose'
import { connectAsync, type MqttClient } from 'mqtt'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startTestStack, type TestStack } from './support/start-test-stack.js'
import { adminApi, type AdminApi } from './support/admin-api.js'
import { until } from '@mqtt-oidc/test-support/until'

interface SessionsView {
  nodes: Array<{ node: string; sessions: number }>
  sessions: Array<{
    node: string
    clientId: string
    username: string | null
    jti: string
    connectedAt: number
    expiresAt: number | null
    remoteAddress: string | null
  }>
}

let stack: TestStack
let admin: AdminApi
const clients: MqttClient[] = []

beforeAll(async () => {
  stack = await startTestStack()
  admin = adminApi(stack.dataDir, stack.exchangeUrl)
}, 30_000)
afterAll(async () => {
  for (const c of clients) await c.endAsync(true).catch(() => {})
  await stack?.close()
})

async function issue(clientId: string, broker = 'demo'): Promise<{ token: string; jti: string; exp: number }> {
  const issued = await admin.send<Record<string, string>>('POST', `/admin/brokers/${broker}/credentials`, {
    clientIds: [clientId],
    username: `${clientId}-user`,
    expiration: '1h',
  })
  const token = issued[clientId]!
  const { jti, exp } = decodeJwt(token)
  return { token, jti: jti!, exp: exp! }
}

async function connect(clientId: string, token: string, url = stack.mqttUrl): Promise<MqttClient> {
  const client = await connectAsync(url, { clientId, username: `${clientId}-user`, password: token, reconnectPeriod: 0, protocolVersion: 4 })
  clients.push(client)
  return client
}

const sessions = (query = '') => admin.get<SessionsView>(`/admin/brokers/demo/sessions${query}`)
const listed = async (clientId: string) => (await sessions(`?clientId=${clientId}`)).sessions

describe('session reports from the aedes broker', () => {
  it('lists a connected client with its jti, username, connection time, token expiry and address', async () => {
    const before = Math.floor(Date.now() / 1000)
    const { token, jti, exp } = await issue('report-1')
    await connect('report-1', token)
    await until(async () => (await listed('report-1')).length === 1)
    const [session] = await listed('report-1')
    expect(session).toEqual({
      node: expect.any(String),
      clientId: 'report-1',
      username: 'report-1-user',
      jti,
      connectedAt: expect.any(Number),
      expiresAt: exp,
      remoteAddress: '127.0.0.1',
    })
    expect(session!.connectedAt).toBeGreaterThanOrEqual(before)
    expect((await sessions()).nodes).toEqual([{ node: session!.node, reportedAt: expect.any(Number), sessions: expect.any(Number) }])
  })

  it('drops a session when the client disconnects, and when its jti is revoked', async () => {
    const one = await issue('report-2')
    const two = await issue('report-3')
    const client = await connect('report-2', one.token)
    const revoked = await connect('report-3', two.token)
    await until(async () => (await listed('report-2')).length === 1 && (await listed('report-3')).length === 1)
    await client.endAsync()
    await until(async () => (await listed('report-2')).length === 0)
    const closed = new Promise<void>((resolve) => revoked.once('close', () => resolve()))
    await admin.send('POST', '/admin/brokers/demo/revocations', { jtis: [two.jti] })
    await closed
    await until(async () => (await listed('report-3')).length === 0)
  })

  it('keeps one row per connection across a takeover of the same client id', async () => {
    const { token } = await issue('report-4')
    await connect('report-4', token)
    await until(async () => (await listed('report-4')).length === 1)
    await connect('report-4', token)
    // The first connection is taken over: exactly one session of the id remains, whatever the order of events.
    await until(async () => (await listed('report-4')).length === 1 && clients.filter((c) => c.options.clientId === 'report-4' && c.connected).length === 1)
    expect(await listed('report-4')).toHaveLength(1)
  })

  it('recovers from a report the exchange lost (out of sequence): the node resends everything', async () => {
    const { token } = await issue('report-5')
    await connect('report-5', token)
    await until(async () => (await listed('report-5')).length === 1)
    const node = (await listed('report-5'))[0]!.node
    // The exchange forgets the node (as a store restored from an older backup would).
    await stack.exchangeStore.sessions.prune(Math.floor(Date.now() / 1000) + 3600)
    expect((await sessions()).sessions).toEqual([])
    const { token: other } = await issue('report-6')
    await connect('report-6', other)
    // Its next report is refused (409), so it sends everything it holds with reset.
    await until(async () => (await listed('report-5')).length === 1 && (await listed('report-6')).length === 1)
    expect((await sessions()).nodes.map((n) => n.node)).toEqual([node])
  })

  it('tells the exchange it holds nothing when it stops: its sessions leave the list at once', async () => {
    await admin.send('POST', '/admin/brokers', { id: 'plant-1' })
    const broker = await stack.startBroker('plant-1')
    const issued = await admin.send<Record<string, string>>('POST', '/admin/brokers/plant-1/credentials', { clientIds: ['plant-gw'], expiration: '1h' })
    const client = await connectAsync(broker.mqttUrl, { clientId: 'plant-gw', username: 'plant-gw', password: issued['plant-gw']!, reconnectPeriod: 0 })
    clients.push(client)
    const plant = () => admin.get<SessionsView>('/admin/brokers/plant-1/sessions')
    await until(async () => (await plant()).sessions.length === 1)
    await broker.close()
    expect(await plant()).toMatchObject({ nodes: [{ sessions: 0 }], sessions: [] })
  })
})
