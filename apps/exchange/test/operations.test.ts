import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { TOKEN_EXCHANGE_GRANT, TOKEN_TYPE } from '@mqtt-oidc/core'
import { ensureBroker } from '../src/ensure-broker.js'
import { startExchange } from './support/harness.js'
import type { Running } from './support/harness.js'
import { startTestIdp } from '@mqtt-oidc/test-support/test-idp'
import type { TestIdp } from '@mqtt-oidc/test-support/test-idp'

let idp: TestIdp
let ex: Running

beforeAll(async () => {
  idp = await startTestIdp()
})
afterAll(async () => {
  await idp.close()
})
beforeEach(async () => {
  ex = await startExchange(idp, { metricsPort: 0, subjectRateLimit: { requests: 1, windowSeconds: 60 } })
  await ensureBroker(ex.store, { id: 'demo', url: 'mqtt://localhost:1883' })
})
afterEach(async () => {
  await ex.close()
})

const exchangeForm = (subjectToken: string): Record<string, string> => ({
  grant_type: TOKEN_EXCHANGE_GRANT,
  subject_token: subjectToken,
  subject_token_type: TOKEN_TYPE.idToken,
  audience: 'demo',
})
const metric = (text: string, series: string): number => Number(new RegExp(`^${series.replace(/[{}"]/g, '\\$&')} (\\S+)$`, 'm').exec(text)?.[1] ?? Number.NaN)

describe('GET /healthz and /readyz (main port and metrics port)', () => {
  it('answers alive, and ready with its checks: the store answers and the signing keys are published', async () => {
    for (const base of [ex.url, ex.metricsUrl!.replace('/metrics', '')]) {
      expect(await (await fetch(`${base}/healthz`)).json()).toEqual({ status: 'ok' })
      const ready = await fetch(`${base}/readyz`)
      expect({ status: ready.status, body: await ready.json() }).toEqual({
        status: 200,
        body: { status: 'ready', checks: { store: { ok: true }, signing_keys: { ok: true, published: 1 } } },
      })
    }
    expect((await fetch(`${ex.url}/metrics`)).status).toBe(404)
  })
})

describe('GET /metrics on the metrics port', () => {
  it('counts exchanges by outcome, verifications by refusal code, limits hit, credentials issued and store latency', async () => {
    expect((await ex.exchangeToken(exchangeForm(await idp.idToken()))).status).toBe(200)
    expect((await ex.exchangeToken(exchangeForm(await idp.idToken()))).status).toBe(429)
    expect((await ex.exchangeToken(exchangeForm('not-a-token'))).status).toBe(400)
    expect((await ex.api('POST', '/admin/brokers/demo/credentials', { number: 2 })).status).toBe(200)
    expect((await ex.api('GET', '/admin/brokers', undefined, 'not-a-token')).status).toBe(401)

    const res = await fetch(ex.metricsUrl!)
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/)
    const text = await res.text()
    expect(metric(text, 'mqtt_oidc_exchange_token_exchanges_total{outcome="issued",code=""}')).toBe(1)
    expect(metric(text, 'mqtt_oidc_exchange_token_exchanges_total{outcome="refused",code="ERR_TOO_MANY_REQUESTS"}')).toBe(1)
    expect(metric(text, 'mqtt_oidc_exchange_token_exchanges_total{outcome="refused",code="ERR_TOKEN_MALFORMED"}')).toBe(1)
    expect(metric(text, 'mqtt_oidc_exchange_token_verifications_total{token="subject",result="valid",code=""}')).toBe(2)
    expect(metric(text, 'mqtt_oidc_exchange_token_verifications_total{token="subject",result="refused",code="ERR_TOKEN_MALFORMED"}')).toBe(1)
    expect(metric(text, 'mqtt_oidc_exchange_token_verifications_total{token="admin",result="valid",code=""}')).toBe(1)
    expect(metric(text, 'mqtt_oidc_exchange_token_verifications_total{token="admin",result="refused",code="ERR_UNAUTHENTICATED"}')).toBe(1)
    expect(metric(text, 'mqtt_oidc_exchange_rate_limited_total{limit="subject"}')).toBe(1)
    expect(metric(text, 'mqtt_oidc_exchange_credentials_issued_total{source="exchange"}')).toBe(1)
    expect(metric(text, 'mqtt_oidc_exchange_credentials_issued_total{source="admin"}')).toBe(2)
    expect(metric(text, 'mqtt_oidc_exchange_feed_streams')).toBe(0)
    expect(metric(text, `mqtt_oidc_exchange_issuer_jwks_age_seconds{issuer="${idp.issuer}"}`)).toBeGreaterThanOrEqual(0)
    expect(metric(text, 'mqtt_oidc_exchange_store_seconds_count{operation="credentials.insertMany",outcome="ok"}')).toBe(2)
    expect(text).not.toContain('not-a-token')
  })
})
