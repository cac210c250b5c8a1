import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createAccount } from '../src/index.js'
import { completeDeviceLogin } from '@mqtt-oidc/test-support/idp-user-agent'
import { ADMIN_SECRET, EXCHANGE_URL, deviceAuthorization, startTestIdp, type TestIdp } from './support/test-idp.js'

const ALICE = { username: 'alice', password: 'correct horse battery' }
let t: TestIdp
let metricsUrl: string

beforeAll(async () => {
  t = await startTestIdp({ metricsPort: 0, userCodeRateLimit: { perIp: { limit: 1, windowSeconds: 600 } } }, async (store) => {
    await createAccount(store, { ...ALICE, clientIds: ['alice-1'] })
  })
  metricsUrl = t.metricsUrl!
})
afterAll(async () => {
  await t?.close()
})

const metric = (text: string, series: string): number => Number(new RegExp(`^${series.replace(/[{}"]/g, '\\$&')} (\\S+)$`, 'm').exec(text)?.[1] ?? Number.NaN)

describe('GET /healthz and /readyz (main port and metrics port)', () => {
  it('answers alive, and ready with its checks: the store answers and the signing keys are published', async () => {
    for (const base of [t.issuer, metricsUrl.replace('/metrics', '')]) {
      expect(await (await fetch(`${base}/healthz`)).json()).toEqual({ status: 'ok' })
      const ready = await fetch(`${base}/readyz`)
      expect({ status: ready.status, cache: ready.headers.get('cache-control'), body: await ready.json() }).toEqual({
        status: 200,
        cache: 'no-store',
        body: { status: 'ready', checks: { store: { ok: true }, signing_keys: { ok: true, published: expect.any(Number) } } },
      })
    }
  })

  it('keeps /metrics off the main port', async () => {
    expect((await fetch(`${t.issuer}/metrics`)).status).toBe(404)
  })
})

describe('GET /metrics on the metrics port', () => {
  it('counts sign-ins by outcome, wrong and rate-limited user codes, tokens issued by grant, and store latency', async () => {
    const before = await (await fetch(metricsUrl)).text()
    const da = await deviceAuthorization(t.issuer)
    const failed = await completeDeviceLogin({
      verificationUriComplete: String(da.verification_uri_complete),
      username: 'alice',
      password: 'wrong password',
    }).catch((e: unknown) => e)
    expect(failed).toBeInstanceOf(Error)
    const again = await deviceAuthorization(t.issuer)
    expect((await completeDeviceLogin({ verificationUriComplete: String(again.verification_uri_complete), ...ALICE })).name).toBe('device-success')
    for (let i = 0; i < 2; i++) {
      await completeDeviceLogin({ verificationUri: `${t.issuer}/device`, userCode: 'BBBB-BBBB-BBBB', ...ALICE }).catch(() => undefined)
    }
    const admin = await fetch(`${t.issuer}/token`, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from(`mqtt-oidc-admin:${ADMIN_SECRET}`).toString('base64')}` },
      body: new URLSearchParams({ grant_type: 'client_credentials', resource: EXCHANGE_URL, scope: 'mqtt-oidc:admin' }),
    })
    expect(admin.status).toBe(200)

    const res = await fetch(metricsUrl)
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/)
    const text = await res.text()
    const grew = (series: string): number => metric(text, series) - (Number.isNaN(metric(before, series)) ? 0 : metric(before, series))
    expect(grew('mqtt_oidc_idp_logins_total{outcome="failed"}')).toBe(1)
    expect(grew('mqtt_oidc_idp_logins_total{outcome="ok"}')).toBe(1)
    expect(grew('mqtt_oidc_idp_wrong_user_codes_total')).toBe(1)
    expect(grew('mqtt_oidc_idp_rate_limited_total{limit="user_code"}')).toBe(1)
    expect(grew('mqtt_oidc_idp_tokens_issued_total{grant_type="client_credentials"}')).toBe(1)
    expect(metric(text, 'mqtt_oidc_idp_store_seconds_count{operation="accounts.findByUsername",outcome="ok"}')).toBeGreaterThanOrEqual(2)
    expect(text).toMatch(/^process_resident_memory_bytes \d+$/m)
    expect(text).not.toContain('wrong password')
  })
})
