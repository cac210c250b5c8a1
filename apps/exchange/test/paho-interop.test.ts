import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { decodeJwt } from 'jose'
import { pino } from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { REFUSALS, TOKEN_EXCHANGE_GRANT, TOKEN_TYPE } from '@mqtt-oidc/core'
import { createBroker } from '@mqtt-oidc/broker'
import type { Broker, BrokerAddresses } from '@mqtt-oidc/broker'
import { startExchange } from './support/harness.js'
import type { Running } from './support/harness.js'
import { startTestIdp } from '@mqtt-oidc/test-support/test-idp'
import type { TestIdp } from '@mqtt-oidc/test-support/test-idp'
import { closed, connected } from '@mqtt-oidc/test-support/mqtt'

// Debian's python3-paho-mqtt (scripts/ensure-test-deps.mjs installs it); /usr/bin/python3 is the interpreter it is installed for.
const PYTHON = '/usr/bin/python3'
const SCRIPT = fileURLToPath(new URL('./support/paho-client.py', import.meta.url))
const BROKER = 'paho'

let idp: TestIdp
let ex: Running
let broker: Broker
let at: BrokerAddresses
/** Revoked at the exchange before the broker started: in the snapshot it loads before accepting any CONNECT. */
let revokedBeforeStart: string

interface PahoResult {
  connack?: number
  suback?: number[]
  received?: { topic: string; payload: string }
  error?: string
}

/** Runs support/paho-client.py (the token goes on stdin) and parses its one JSON line. */
function paho(clientId: string, username: string, token: string, topic?: string): Promise<PahoResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(PYTHON, [SCRIPT, '127.0.0.1', String(at.mqttPort), clientId, username, ...(topic ? [topic] : [])], { stdio: ['pipe', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()))
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()))
    child.once('error', reject)
    child.once('close', () => {
      try {
        resolve(JSON.parse(stdout.trim().split('\n').pop() ?? '') as PahoResult)
      } catch {
        reject(new Error(`paho-client.py printed no result: ${stdout}${stderr}`))
      }
    })
    child.stdin.end(token)
  })
}

/** POST /token: the test IdP's ID token with `clientid` exchanged for a token for this broker. */
async function exchanged(clientId: string): Promise<string> {
  const res = await ex.exchangeToken({
    grant_type: TOKEN_EXCHANGE_GRANT,
    subject_token: await idp.idToken({ clientid: clientId }),
    subject_token_type: TOKEN_TYPE.idToken,
    audience: BROKER,
  })
  const body = (await res.json()) as { access_token?: string }
  if (res.status !== 200 || !body.access_token) throw new Error(`token exchange failed: ${res.status} ${JSON.stringify(body)}`)
  return body.access_token
}

async function issued(clientId: string): Promise<string> {
  const res = await ex.api('POST', `/admin/brokers/${BROKER}/credentials`, {
    clientIds: [clientId],
    expiration: '1h',
    acl: { pub: ['sensors/${clientid}/#'], sub: ['sensors/${clientid}/#'] },
  })
  const body = (await res.json()) as Record<string, string>
  if (res.status !== 200 || !body[clientId]) throw new Error(`issue failed: ${res.status} ${JSON.stringify(body)}`)
  return body[clientId]
}

async function revoke(token: string): Promise<void> {
  const res = await ex.api('POST', `/admin/brokers/${BROKER}/revocations`, { jtis: [decodeJwt(token).jti] })
  expect(res.status).toBe(200)
}

beforeAll(async () => {
  idp = await startTestIdp()
  ex = await startExchange(idp)
  const res = await ex.api('POST', '/admin/brokers', { id: BROKER })
  expect(res.status).toBe(201)
  revokedBeforeStart = await exchanged('p-revoked')
  await revoke(revokedBeforeStart)
  const feed = await ex.api('POST', `/admin/brokers/${BROKER}/feed-credential`)
  const { feedCredential } = (await feed.json()) as { feedCredential: string }
  broker = createBroker({ brokerId: BROKER, exchangeUrl: ex.url, mqttPort: 0, wsPort: 0, logger: pino({ level: 'silent' }), feedCredential })
  at = await broker.listen()
}, 30_000)

afterAll(async () => {
  await broker?.close()
  await ex?.close()
  await idp?.close()
})

describe('paho-mqtt (Debian python3-paho-mqtt, MQTT 3.1.1) against the aedes broker', () => {
  it('an exchange-issued token connects and round-trips a QoS 1 message inside its ACL (devices/${clientid}/#)', async () => {
    const result = await paho('p1', 'p1', await exchanged('p1'), 'devices/p1/temp')
    expect(result).toEqual({ connack: 0, suback: [1], received: { topic: 'devices/p1/temp', payload: 'hello from paho' } })
  })

  it('an admin-issued token with its own ACL round-trips too', async () => {
    const result = await paho('p-admin', 'p-admin', await issued('p-admin'), 'sensors/p-admin/t')
    expect(result).toEqual({ connack: 0, suback: [1], received: { topic: 'sensors/p-admin/t', payload: 'hello from paho' } })
  })

  it('refuses a client id other than the token sub with CONNACK 5', async () => {
    expect(REFUSALS.ERR_CLIENT_ID_MISMATCH.connack).toBe(5)
    expect(await paho('someone-else', 'p2', await exchanged('p2'))).toEqual({ connack: REFUSALS.ERR_CLIENT_ID_MISMATCH.connack })
  })

  it('refuses a token revoked before the broker started with CONNACK 4', async () => {
    expect(REFUSALS.ERR_TOKEN_REVOKED.connack).toBe(4)
    expect(await paho('p-revoked', 'p-revoked', revokedBeforeStart)).toEqual({ connack: REFUSALS.ERR_TOKEN_REVOKED.connack })
  })

  it('refuses a token revoked while its session was live with CONNACK 4 (after the feed closed that session)', async () => {
    const token = await exchanged('p3')
    const live = await connected(at.mqttUrl, { clientId: 'p3', username: 'p3', password: token })
    const gone = closed(live)
    await revoke(token)
    await gone
    expect(await paho('p3', 'p3', token)).toEqual({ connack: 4 })
  })
})
