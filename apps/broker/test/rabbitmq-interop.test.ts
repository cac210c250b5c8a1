import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { rabbitmqScopes } from '@mqtt-oidc/broker-auth'
import { startFakeExchange } from '../../../packages/broker-auth/test/helpers/fake-exchange.js'
import type { FakeExchange } from '../../../packages/broker-auth/test/helpers/fake-exchange.js'
import { createTokenKit, nowSeconds } from '../../../packages/broker-auth/test/helpers/token-kit.js'
import type { TokenKit } from '../../../packages/broker-auth/test/helpers/token-kit.js'
import { spawnTool } from './helpers/mqtt.js'
import { startRabbitmq } from './helpers/start-rabbitmq.js'
import type { Rabbitmq } from './helpers/start-rabbitmq.js'

// RabbitMQ's OAuth 2 backend: `aud` must hold its resource_server_id; permissions come from `scope`.
const RESOURCE_SERVER = 'rabbitmq'
const ACL = { pub: ['devices/${clientid}/#'], sub: ['devices/${clientid}/#'] }

let exchange: FakeExchange
let kit: TokenKit
let rabbit: Rabbitmq

/** A broker token with the rabbitmq profile's claims: RS256, aud = resource server id, scope from the ACL. */
function token(sub: string, claims: Record<string, unknown> = {}, k: TokenKit = kit, acl = ACL): Promise<string> {
  return k.sign({ sub, aud: RESOURCE_SERVER, acl, scope: rabbitmqScopes(acl, { clientid: sub }, { resourceServerId: RESOURCE_SERVER }).join(' '), ...claims })
}

const pub = (clientId: string, password: string, topic: string) =>
  spawnTool('mosquitto_pub', ['-h', '127.0.0.1', '-p', String(rabbit.mqttPort), '-V', 'mqttv311', '-i', clientId, '-u', clientId, '-P', password, '-q', '1', '-t', topic, '-m', 'hello'], 20_000).exited

beforeAll(async () => {
  exchange = await startFakeExchange({ broker: RESOURCE_SERVER })
  kit = await createTokenKit({ issuer: exchange.url, audience: RESOURCE_SERVER, alg: 'RS256' })
  exchange.jwks = { keys: [kit.publicJwk] }
  rabbit = await startRabbitmq({ jwksUrl: exchange.jwksUri, resourceServerId: RESOURCE_SERVER })
}, 90_000)
afterAll(async () => {
  await rabbit?.stop()
  await exchange?.close()
}, 30_000)

describe('RabbitMQ 3.10 (rabbitmq_mqtt + rabbitmq_auth_backend_oauth2) with our tokens via JWKS', () => {
  it('a token with the rabbitmq profile connects, subscribes and publishes inside its ACL (mosquitto_sub/mosquitto_pub)', async () => {
    // stdbuf: mosquitto_sub's debug lines (-d, which show the SUBACK) are block-buffered on a pipe
    const sub = spawnTool('stdbuf', ['-oL', 'mosquitto_sub',
      '-h', '127.0.0.1', '-p', String(rabbit.mqttPort), '-V', 'mqttv311', '-i', 'r1', '-u', 'r1', '-P', await token('r1'),
      '-q', '1', '-t', 'devices/r1/#', '-C', '1', '-v', '-d',
    ], 20_000)
    await sub.printed('received SUBACK')
    // another client id (the same one would take the subscriber's session over), allowed to publish to r1's topics
    const run = await pub('r1-pub', await token('r1-pub', {}, kit, { pub: ['devices/r1/#'], sub: [] }), 'devices/r1/temp')
    expect(run.code, run.stderr).toBe(0)
    await sub.printed('devices/r1/temp hello')
    expect((await sub.exited).code).toBe(0)
  })

  it('closes the connection of a publish outside the ACL (RabbitMQ topic authorization from the scopes)', async () => {
    const run = await pub('r2', await token('r2'), 'devices/someone-else/temp')
    expect(run.code).not.toBe(0)
    expect(run.stderr).toMatch(/connection was lost/i)
  })

  it.each([
    ['a token for another broker (aud)', async () => token('x1', { aud: 'other-broker' })],
    ['an expired token', async () => token('x2', { exp: nowSeconds() - 120, iat: nowSeconds() - 600, nbf: nowSeconds() - 600 })],
    ['a forged token (another key, same kid)', async () => token('x3', {}, await createTokenKit({ issuer: exchange.url, audience: RESOURCE_SERVER, alg: 'RS256', kid: kit.kid }))],
    ['garbage', async () => 'not-a-token'],
  ])('refuses %s at CONNECT', async (_name, make) => {
    const run = await pub('x', await make(), 'devices/x/t')
    expect(run.code).not.toBe(0)
    expect(run.stderr).toMatch(/not authori[sz]ed|bad user name or password|Connection Refused/i)
  })
})
