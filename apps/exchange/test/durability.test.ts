import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { decodeJwt } from 'jose'
import { freePort } from '@mqtt-oidc/test-support/free-port'
import { startChildExchange } from './support/child-exchange.js'
import type { ChildExchange } from './support/child-exchange.js'
import { startTestIdp } from '@mqtt-oidc/test-support/test-idp'
import type { TestIdp } from '@mqtt-oidc/test-support/test-idp'

let idp: TestIdp
let dir: string
let child: ChildExchange | undefined

beforeAll(async () => {
  idp = await startTestIdp()
  dir = mkdtempSync(join(tmpdir(), 'mqtt-oidc-durable-'))
})
afterAll(async () => {
  await child?.kill()
  await idp.close()
  rmSync(dir, { recursive: true, force: true })
})

describe('revocations survive SIGKILL of the exchange process', () => {
  it('keeps every acknowledged revocation after a kill -9 and a restart', async () => {
    const port = await freePort()
    const issuer = `http://127.0.0.1:${port}`
    const env = {
      MQTT_OIDC_DATA_DIR: dir,
      MQTT_OIDC_EXCHANGE_ISSUER: issuer,
      MQTT_OIDC_EXCHANGE_IDP_ISSUER: idp.issuer,
      MQTT_OIDC_EXCHANGE_LOG_LEVEL: 'info',
    }
    child = await startChildExchange(env, port)
    const admin = await idp.accessToken(issuer)
    const api = (method: string, path: string, body?: unknown): Promise<Response> =>
      fetch(`${issuer}${path}`, {
        method,
        headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      })

    const issued = await api('POST', '/admin/brokers/demo/credentials', { number: 100, expiration: '1h' })
    expect(issued.status).toBe(200)
    const jtis = Object.values((await issued.json()) as Record<string, string>).map((t) => decodeJwt(t).jti!)

    // A burst of 100 concurrent single-jti revocations; each 200 is an acknowledgement.
    const answers = await Promise.all(
      jtis.map(async (jti) => {
        const res = await api('POST', '/admin/brokers/demo/revocations', { jtis: [jti] })
        return { status: res.status, body: (await res.json()) as { revision: number; revoked: string[] } }
      }),
    )
    expect(answers.every((a) => a.status === 200 && a.body.revoked.length === 1)).toBe(true)
    const acknowledged = answers.map((a) => a.body.revoked[0]!).sort()
    const lastRevision = Math.max(...answers.map((a) => a.body.revision))

    // No graceful shutdown: the process dies right after the last acknowledgement.
    await child.kill()
    child = await startChildExchange(env, port)

    // the feed credential the exchange wrote for the demo broker on its first start
    const feed = readFileSync(join(dir, 'feed-credentials', 'demo'), 'utf8').trim()
    const res = await fetch(`${issuer}/brokers/demo/revocations`, { headers: { authorization: `Bearer ${feed}` } })
    const snapshot = (await res.json()) as { revision: number; revoked: { jti: string }[] }
    expect(snapshot.revision).toBe(lastRevision)
    expect(snapshot.revoked.map((r) => r.jti).sort()).toEqual(acknowledged)
    expect(acknowledged).toEqual([...jtis].sort())
  })
})
