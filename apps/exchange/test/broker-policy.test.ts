import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { decodeJwt } from 'jose'
import { pino } from 'pino'
import { TOKEN_EXCHANGE_GRANT, TOKEN_TYPE } from '@mqtt-oidc/core'
import { startExchange } from './support/harness.js'
import type { Running } from './support/harness.js'
import { now, startTestIdp } from '@mqtt-oidc/test-support/test-idp'
import type { TestIdp } from '@mqtt-oidc/test-support/test-idp'

let idp: TestIdp
let corp: TestIdp
let ex: Running
let lines: string[]

beforeAll(async () => {
  ;[idp, corp] = await Promise.all([startTestIdp(), startTestIdp()])
})
afterAll(async () => {
  await Promise.all([idp.close(), corp.close()])
})
beforeEach(async () => {
  lines = []
  const logger = pino(
    { level: 'info' },
    {
      write: (line: string) => {
        lines.push(line)
      },
    },
  )
  ex = await startExchange(idp, { logger, trustedIssuers: [{ issuer: corp.issuer, clientIds: ['mqtt-oidc-cli'] }] })
})
afterEach(async () => {
  await ex.close()
})

const exchange = async (broker: string, claims: Record<string, unknown> = {}, extra: Record<string, string> = {}, from = idp) => {
  const res = await ex.exchangeToken({
    grant_type: TOKEN_EXCHANGE_GRANT,
    subject_token: await from.idToken(claims),
    subject_token_type: TOKEN_TYPE.idToken,
    audience: broker,
    ...extra,
  })
  const body = (await res.json()) as Record<string, unknown>
  return {
    status: res.status,
    body,
    retryAfter: res.headers.get('retry-after'),
    claims: typeof body.access_token === 'string' ? decodeJwt(body.access_token) : undefined,
  }
}

const createBroker = async (body: Record<string, unknown>): Promise<Record<string, unknown>> => {
  const res = await ex.api('POST', '/admin/brokers', body)
  expect(res.status).toBe(201)
  return (await res.json()) as Record<string, unknown>
}

describe('broker policy on POST /token', () => {
  it('generates a ULID client id when the broker says so and returns it in the response', async () => {
    await createBroker({ id: 'fleet', policy: { clientIdMode: 'generated' } })
    const { status, body, claims } = await exchange('fleet', { clientid: undefined })
    expect(status).toBe(200)
    expect(body.client_id).toMatch(/^[0-9A-HJKMNP-TV-Z]{26}$/)
    expect(claims?.sub).toBe(body.client_id)
  })

  it('picks the ACL template keyed by group, then by claim, else the broker ACL', async () => {
    await createBroker({
      id: 'plant',
      acl: { pub: [], sub: ['public/#'] },
      policy: {
        aclTemplates: [
          { when: { group: 'operators' }, acl: { pub: ['devices/${clientid}/#'], sub: ['commands/${clientid}/#'] } },
          { when: { claim: 'role', value: 'auditor' }, acl: { pub: [], sub: ['#'] } },
        ],
      },
    })
    expect((await exchange('plant', { groups: ['staff', 'operators'] })).claims?.acl).toEqual({
      pub: ['devices/${clientid}/#'],
      sub: ['commands/${clientid}/#'],
    })
    expect((await exchange('plant', { role: 'auditor' })).claims?.acl).toEqual({ pub: [], sub: ['#'] })
    expect((await exchange('plant')).claims?.acl).toEqual({ pub: [], sub: ['public/#'] })
  })

  it('caps the lifetime at the policy maximum', async () => {
    await createBroker({ id: 'short', expiration: '1h', policy: { maxLifetime: 120 } })
    const { body, claims } = await exchange('short')
    expect(body.expires_in).toBe(120)
    expect(claims!.exp! - claims!.iat!).toBe(120)
  })

  it('refuses a subject from an issuer the broker does not allow with invalid_target', async () => {
    await createBroker({ id: 'strict', policy: { allowedIssuers: [idp.issuer] } })
    expect((await exchange('strict')).status).toBe(200)
    const refused = await exchange('strict', {}, {}, corp)
    expect({ status: refused.status, body: refused.body }).toEqual({
      status: 400,
      body: { error: 'invalid_target', error_description: 'broker "strict" does not accept tokens from this issuer' },
    })
  })

  it('rate-limits exchanges per subject with 429 and Retry-After, leaving other subjects alone', async () => {
    await createBroker({ id: 'limited', policy: { rateLimit: { requests: 2, windowSeconds: 60 } } })
    expect((await exchange('limited')).status).toBe(200)
    expect((await exchange('limited')).status).toBe(200)
    const third = await exchange('limited')
    expect({ status: third.status, body: third.body }).toEqual({
      status: 429,
      body: { error: 'slow_down', error_description: expect.stringMatching(/^too many token exchanges for this subject; retry in \d+ s$/) },
    })
    expect(Number(third.retryAfter)).toBeGreaterThan(0)
    // Another subject (with its own client id: one id belongs to one subject).
    expect((await exchange('limited', { sub: 'account-2', clientid: 'gateway-2' })).status).toBe(200)
  })

  it('updates ACL templates, profile and allowed issuers with PATCH, keeping the rest of the policy', async () => {
    await createBroker({ id: 'edit', policy: { maxLifetime: 300 } })
    const res = await ex.api('PATCH', '/admin/brokers/edit', {
      policy: { profile: 'emqx', allowedIssuers: [corp.issuer], aclTemplates: [{ when: {}, acl: { pub: ['a/#'], sub: [] } }] },
    })
    expect(((await res.json()) as { policy: unknown }).policy).toEqual({
      clientIdMode: 'claim',
      aclTemplates: [{ when: {}, acl: { pub: ['a/#'], sub: [] } }],
      maxLifetime: 300,
      rateLimit: null,
      profile: 'emqx',
      allowedIssuers: [corp.issuer],
      alg: 'EdDSA',
    })
    expect((await exchange('edit', {}, {}, corp)).claims?.acl).toEqual({ pub: ['a/#'], sub: [] })
  })
})

describe('admin issuance notBefore', () => {
  it('sets nbf from a duration and counts the lifetime from it', async () => {
    await createBroker({ id: 'later' })
    const before = now()
    const res = await ex.api('POST', '/admin/brokers/later/credentials', { clientIds: ['gw-9'], notBefore: '10m', expiration: '1h' })
    const claims = decodeJwt(((await res.json()) as Record<string, string>)['gw-9']!)
    expect(claims.nbf).toBeGreaterThanOrEqual(before + 600)
    expect(claims.exp).toBe(claims.nbf! + 3600)
    expect(claims.iat).toBeLessThan(claims.nbf!)
  })

  it('sets nbf from an ISO time, and refuses what is neither', async () => {
    await createBroker({ id: 'later' })
    // A whole day 30 days ahead (notBefore may be at most 365 days ahead).
    const day = (Math.floor(now() / 86400) + 30) * 86400
    const res = await ex.api('POST', '/admin/brokers/later/credentials', { clientIds: ['gw-9'], notBefore: new Date(day * 1000).toISOString() })
    expect(decodeJwt(((await res.json()) as Record<string, string>)['gw-9']!).nbf).toBe(day)
    const bad = await ex.api('POST', '/admin/brokers/later/credentials', { notBefore: 'tomorrow-ish' })
    expect({ status: bad.status, body: await bad.json() }).toEqual({
      status: 400,
      body: { error: 'invalid_request', error_description: 'notBefore must be epoch seconds, an ISO 8601 time or a duration such as 10m' },
    })
  })
})

describe('admin tokens scoped to one broker', () => {
  it('acts on its own broker only, sees only it, cannot create brokers, and every refusal is audited', async () => {
    await createBroker({ id: 'mine' })
    await createBroker({ id: 'theirs' })
    const token = await idp.accessToken(ex.exchange.issuer, { scope: 'mqtt-oidc:admin:broker:mine', sub: 'ops-mine' })
    expect((await ex.api('POST', '/admin/brokers/mine/credentials', { number: 1 }, token)).status).toBe(200)
    const listed = (await (await ex.api('GET', '/admin/brokers', undefined, token)).json()) as { id: string }[]
    expect(listed.map((b) => b.id)).toEqual(['mine'])

    const other = await ex.api('POST', '/admin/brokers/theirs/credentials', { number: 1 }, token)
    expect({ status: other.status, www: other.headers.get('www-authenticate'), body: await other.json() }).toEqual({
      status: 403,
      www: 'Bearer realm="mqtt-oidc", error="insufficient_scope", scope="mqtt-oidc:admin:broker:theirs"',
      body: { error: 'insufficient_scope', error_description: 'the access token may not act on broker "theirs"' },
    })
    const create = await ex.api('POST', '/admin/brokers', { id: 'new-one' }, token)
    expect({ status: create.status, body: await create.json() }).toEqual({
      status: 403,
      body: { error: 'insufficient_scope', error_description: 'this action needs scope mqtt-oidc:admin' },
    })
    const audits = lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((r) => r.audit === true && r.who === 'ops-mine')
    expect(audits.map((a) => [a.action, a.refused ?? 'ok'])).toEqual([
      ['credentials.issue', 'ok'],
      ['broker.list', 'ok'],
      ['POST /admin/brokers/theirs/credentials', 'ERR_INSUFFICIENT_SCOPE'],
      ['POST /admin/brokers', 'ERR_INSUFFICIENT_SCOPE'],
    ])
  })
})
