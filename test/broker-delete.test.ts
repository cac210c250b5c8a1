import { decodeJwt } from 'jose'
import { connectAsync, type MqttClient } from 'mqtt'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createAdminClient, type AdminClient } from '@mqtt-oidc/client'
import { connackOf } from '@mqtt-oidc/test-support/mqtt'
import { startTestStack, type TestStack } from './support/start-test-stack.js'
import { until } from '@mqtt-oidc/test-support/until'

// A broker deleted and created again under the same id, with a real aedes
// broker following the exchange's revocation feed all along and restarted at
// the end. Revocations made before the delete must stay enforced, and the
// ones made after must still reach the running broker: its revision cursor
// never runs ahead of the exchange's.

let stack: TestStack
let admin: AdminClient

beforeAll(async () => {
  stack = await startTestStack()
  admin = createAdminClient({ dataDir: stack.dataDir })
}, 60_000)

afterAll(async () => {
  await stack?.close()
})

const jti = (token: string): string => decodeJwt(token).jti!

/** A live MQTT 3.1.1 session (client id = username = the credential's client id); `closed` turns true when the broker ends it. */
async function session(url: string, clientId: string, password: string): Promise<{ client: MqttClient; closed: () => boolean }> {
  const client = await connectAsync(url, { clientId, username: clientId, password, reconnectPeriod: 0, protocolVersion: 4 })
  let closed = false
  client.on('close', () => {
    closed = true
  })
  return { client, closed: () => closed }
}

/** CONNACK return code of one MQTT 3.1.1 CONNECT with a credential (client id = username). */
const connackWith = (url: string, clientId: string, password: string): Promise<number> => connackOf(url, { clientId, username: clientId, password })

describe('deleting a broker and creating it again', () => {
  it('keeps every revocation enforced: on the running broker, for sessions opened after, and after a broker restart', async () => {
    await admin.createBroker('plant')
    let broker = await stack.startBroker('plant')
    try {
      const first = await admin.issueCredentials('plant', { clientIds: ['gw-a', 'gw-b'], expiration: '1h' })
      const a = await session(broker.mqttUrl, 'gw-a', first['gw-a']!)
      const b = await session(broker.mqttUrl, 'gw-b', first['gw-b']!)

      await admin.revoke('plant', [jti(first['gw-a']!)])
      await until(async () => a.closed(), 5000)

      // gw-b is live: the delete needs force, revokes it and closes its session.
      await expect(admin.deleteBroker('plant')).rejects.toMatchObject({ status: 409 })
      expect(await admin.deleteBroker('plant', { force: true })).toEqual({ id: 'plant', deleted: true, revoked: 1 })
      await until(async () => b.closed(), 5000)

      await admin.createBroker('plant')
      const second = await admin.issueCredentials('plant', { clientIds: ['gw-c', 'gw-d'], expiration: '1h' })
      const c = await session(broker.mqttUrl, 'gw-c', second['gw-c']!)
      const d = await session(broker.mqttUrl, 'gw-d', second['gw-d']!)
      await admin.revoke('plant', [jti(second['gw-c']!)])
      await until(async () => c.closed(), 5000)
      expect(d.closed()).toBe(false)
      await d.client.endAsync()

      await broker.close()
      broker = await stack.startBroker('plant')
      expect(await connackWith(broker.mqttUrl, 'gw-a', first['gw-a']!)).toBe(4)
      expect(await connackWith(broker.mqttUrl, 'gw-b', first['gw-b']!)).toBe(4)
      expect(await connackWith(broker.mqttUrl, 'gw-c', second['gw-c']!)).toBe(4)
      expect(await connackWith(broker.mqttUrl, 'gw-d', second['gw-d']!)).toBe(0)
    } finally {
      await broker.close()
    }
  })
})
