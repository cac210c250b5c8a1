import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { decodeJwt } from 'jose'
import { TOKEN_EXCHANGE_GRANT, TOKEN_TYPE } from '@mqtt-oidc/core'
import type { ExchangeOptions } from '../src/create-exchange.js'
import { ensureBroker } from '../src/ensure-broker.js'
import { startExchange } from './support/harness.js'
import type { Running } from './support/harness.js'
import { now as realNow, startTestIdp } from '@mqtt-oidc/test-support/test-idp'
import type { TestIdp } from '@mqtt-oidc/test-support/test-idp'

// The exchange's own limits, on by default: exchanges per subject, credentials
// an admin issues per window, and live admin-issued credentials per broker.
// Time is the exchange's `now`, moved by the tests.

let idp: TestIdp
let ex: Running | undefined
let t: number

beforeAll(async () => {
  idp = await startTestIdp()
})
afterAll(async () => {
  await idp.close()
})
afterEach(async () => {
  await ex?.close()
})

async function start(options: Partial<ExchangeOptions> = {}): Promise<Running> {
  t = realNow()
  ex = await startExchange(idp, { now: () => t, ...options })
  await ensureBroker(ex.store, { id: 'demo' })
  return ex
}

async function exchange(claims: Record<string, unknown> = {}, broker = 'demo') {
  const res = await ex!.exchangeToken({
    grant_type: TOKEN_EXCHANGE_GRANT,
    subject_token: await idp.idToken(claims),
    subject_token_type: TOKEN_TYPE.idToken,
    audience: broker,
  })
  return { status: res.status, retryAfter: res.headers.get('retry-after'), body: (await res.json()) as Record<string, unknown> }
}

async function issue(body: Record<string, unknown>, broker = 'demo') {
  const res = await ex!.api('POST', `/admin/brokers/${broker}/credentials`, body)
  return { status: res.status, retryAfter: res.headers.get('retry-after'), body: (await res.json()) as Record<string, unknown> }
}

const slowDown = (description: string) => ({ error: 'slow_down', error_description: description })

describe('POST /token: exchanges per subject', () => {
  it('allows 20 a minute per subject by default, then answers 429 with Retry-After and records nothing', async () => {
    await start()
    for (let i = 0; i < 20; i++) expect((await exchange()).status).toBe(200)
    t += 15
    expect(await exchange()).toEqual({ status: 429, retryAfter: '45', body: slowDown('too many token exchanges for this subject; retry in 45 s') })
    expect(await ex!.store.credentials.countLive('demo', t, 'exchange')).toBe(20)
    // another sign-in of the same account (another client id) and another account have their own budgets
    expect((await exchange({ clientid: 'gateway-2' })).status).toBe(200)
    expect((await exchange({ sub: 'account-2', clientid: 'account-2-gw' })).status).toBe(200)
    t += 45
    expect((await exchange()).status).toBe(200)
  })

  it('takes its limit from the options, or none', async () => {
    await start({ subjectRateLimit: { requests: 2, windowSeconds: 10 } })
    expect((await exchange()).status).toBe(200)
    expect((await exchange()).status).toBe(200)
    expect((await exchange()).retryAfter).toBe('10')
    await ex!.close()
    await start({ subjectRateLimit: null })
    for (let i = 0; i < 25; i++) expect((await exchange()).status).toBe(200)
  })

  it('counts nothing against one limit when the other refuses', async () => {
    await start({ subjectRateLimit: { requests: 3, windowSeconds: 60 } })
    const created = await ex!.api('POST', '/admin/brokers', { id: 'limited', policy: { rateLimit: { requests: 2, windowSeconds: 60 } } })
    expect(created.status).toBe(201)
    expect((await exchange({}, 'limited')).status).toBe(200)
    expect((await exchange({}, 'limited')).status).toBe(200)
    expect(await exchange({}, 'limited')).toEqual({ status: 429, retryAfter: '60', body: slowDown('too many token exchanges for this subject; retry in 60 s') })
    // the broker's limit refused that one: the subject's own budget still has one left
    expect((await exchange()).status).toBe(200)
    expect((await exchange()).status).toBe(429)
  })
})

describe('POST /admin/brokers/:id/credentials: admin quotas', () => {
  it('lets one admin issue 1000 credentials a minute by default; a batch that does not fit is refused whole, with Retry-After', async () => {
    await start()
    for (let i = 0; i < 9; i++) expect((await issue({ number: 100 })).status).toBe(200)
    expect((await issue({ number: 99 })).status).toBe(200)
    t += 20
    expect(await issue({ number: 2 })).toEqual({
      status: 429,
      retryAfter: '40',
      body: slowDown('this admin may issue 1000 credentials per 60 s and has 1 left; retry in 40 s'),
    })
    expect(await ex!.store.credentials.countLive('demo', t)).toBe(999)
    expect((await issue({ number: 1 })).status).toBe(200)
    // another admin has its own budget
    const other = await ex!.api('POST', '/admin/brokers/demo/credentials', { number: 5 }, await idp.accessToken(ex!.exchange.issuer, { sub: 'ops-2' }))
    expect(other.status).toBe(200)
    t += 40
    expect((await issue({ number: 100 })).status).toBe(200)
  })

  it('refuses a batch larger than the whole per-admin limit as invalid', async () => {
    await start({ adminIssueRateLimit: { requests: 50, windowSeconds: 60 } })
    expect(await issue({ number: 51 })).toEqual({
      status: 400,
      retryAfter: null,
      body: { error: 'invalid_request', error_description: 'an admin may issue at most 50 credentials per 60 s; ask for fewer' },
    })
  })

  it('caps the live admin-issued credentials of a broker; Retry-After says when enough will have expired; revoking frees room', async () => {
    await start({ maxLiveAdminCredentials: 4 })
    const first = await issue({ clientIds: ['a', 'b'], expiration: '1h' })
    await issue({ clientIds: ['c'], expiration: '2h' })
    await issue({ clientIds: ['d'], expiration: -1 })
    expect((await exchange()).status).toBe(200) // exchanged tokens do not count
    expect(await issue({ clientIds: ['e', 'f', 'g'] })).toEqual({
      status: 429,
      retryAfter: '7200',
      body: slowDown(
        'broker "demo" has 4 live admin-issued credentials (quota 4): 3 more do not fit; retry in 7200 s, when enough of them have expired, or revoke some',
      ),
    })
    await ex!.api('POST', '/admin/brokers/demo/revocations', { jtis: [decodeJwt((first.body as Record<string, string>).a!).jti] })
    expect((await issue({ clientIds: ['e'] })).status).toBe(200) // live: b, c, d, e
    t += 7200 // b and c have expired
    expect((await issue({ clientIds: ['x'], expiration: -1 })).status).toBe(200)
    expect((await issue({ clientIds: ['y'], expiration: -1 })).status).toBe(200)
    // live: d, e, x, y; only e ever expires, so waiting cannot make room for 3
    expect(await issue({ clientIds: ['z', 'zz', 'zzz'] })).toEqual({
      status: 429,
      retryAfter: null,
      body: slowDown('broker "demo" has 4 live admin-issued credentials (quota 4): 3 more do not fit; revoke some first'),
    })
    expect(await ex!.store.credentials.countLive('demo', t, 'admin')).toBe(4)
  })
})
