import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { createLocalJWKSet, decodeJwt, decodeProtectedHeader, jwtVerify } from 'jose'
import { TOKEN_EXCHANGE_GRANT, TOKEN_TYPE, rabbitmqScopes } from '@mqtt-oidc/core'
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
  ex = await startExchange(idp)
})
afterEach(async () => {
  await ex.close()
})

const DEVICE_ACL = { pub: ['devices/${clientid}/#'], sub: ['commands/${clientid}/#'] }

async function createBroker(body: Record<string, unknown>): Promise<Record<string, unknown>> {
  const res = await ex.api('POST', '/admin/brokers', body)
  expect(res.status).toBe(201)
  return (await res.json()) as Record<string, unknown>
}

async function exchanged(broker: string): Promise<string> {
  const res = await ex.exchangeToken({
    grant_type: TOKEN_EXCHANGE_GRANT,
    subject_token: await idp.idToken(),
    subject_token_type: TOKEN_TYPE.idToken,
    audience: broker,
  })
  expect(res.status).toBe(200)
  return ((await res.json()) as { access_token: string }).access_token
}

async function adminIssued(broker: string, body: Record<string, unknown>): Promise<Record<string, string>> {
  const res = await ex.api('POST', `/admin/brokers/${broker}/credentials`, body)
  expect(res.status).toBe(200)
  return (await res.json()) as Record<string, string>
}

/** Verifies against the exchange's published JWKS, as a broker would. */
async function verify(token: string, audience: string): Promise<Record<string, unknown>> {
  const jwks = (await (await fetch(`${ex.url}/.well-known/jwks.json`)).json()) as Parameters<typeof createLocalJWKSet>[0]
  const { payload } = await jwtVerify(token, createLocalJWKSet(jwks), { issuer: ex.exchange.issuer, audience })
  return payload
}

describe('broker profile rabbitmq', () => {
  it('signs RS256 with aud = the broker id and a scope claim built from the ACL, for exchanged tokens', async () => {
    const created = await createBroker({ id: 'rmq', acl: DEVICE_ACL, policy: { profile: 'rabbitmq' } })
    expect(created.policy).toMatchObject({ profile: 'rabbitmq', alg: 'RS256' })
    expect(created.policy).not.toHaveProperty('resourceServerId')
    const token = await exchanged('rmq')
    expect(decodeProtectedHeader(token)).toMatchObject({ alg: 'RS256', typ: 'mqtt-broker+jwt' })
    const claims = await verify(token, 'rmq')
    expect(claims).toMatchObject({ aud: 'rmq', sub: 'gateway-1', username: 'alice', acl: DEVICE_ACL })
    expect(claims.scope).toBe(rabbitmqScopes(DEVICE_ACL, { clientid: 'gateway-1', username: 'alice' }, { resourceServerId: 'rmq' }).join(' '))
    expect(claims.scope).toContain('rmq.write:*/*/devices.gateway-1.*')
    expect(claims.scope).toContain('rmq.read:*/*/commands.gateway-1.*')
  })

  it('uses the policy resourceServerId as aud and scope prefix, for admin-issued tokens too', async () => {
    await createBroker({ id: 'rmq-eu', policy: { profile: 'rabbitmq', resourceServerId: 'rabbitmq' } })
    const { c1 } = await adminIssued('rmq-eu', { clientIds: ['c1'], acl: { pub: ['t/${clientid}'], sub: [] } })
    const claims = await verify(c1!, 'rabbitmq')
    expect(claims.aud).toBe('rabbitmq')
    expect(claims.scope).toBe('rabbitmq.write:*/amq.topic rabbitmq.write:*/*/t.c1')
  })

  it('keeps an alg the admin names explicitly beside the profile, and refuses a resourceServerId with dots or spaces', async () => {
    const created = await createBroker({ id: 'rmq-es', policy: { profile: 'rabbitmq', alg: 'ES256' } })
    expect(created.policy).toMatchObject({ alg: 'ES256' })
    expect(decodeProtectedHeader(await exchanged('rmq-es')).alg).toBe('ES256')
    const res = await ex.api('POST', '/admin/brokers', { id: 'rmq-bad', policy: { profile: 'rabbitmq', resourceServerId: 'a.b c' } })
    expect(res.status).toBe(400)
    expect(await res.json()).toMatchObject({ error: 'invalid_request' })
  })

  it('switching an existing broker to the rabbitmq profile by PATCH selects RS256 and reshapes new tokens', async () => {
    await createBroker({ id: 'later', acl: DEVICE_ACL })
    expect(decodeProtectedHeader(await exchanged('later')).alg).toBe('EdDSA')
    const res = await ex.api('PATCH', '/admin/brokers/later', { policy: { profile: 'rabbitmq' } })
    expect(res.status).toBe(200)
    const token = await exchanged('later')
    expect(decodeProtectedHeader(token).alg).toBe('RS256')
    expect(decodeJwt(token).scope).toEqual(expect.stringContaining('later.write:*/amq.topic'))
  })
})

describe('broker profile emqx', () => {
  it('puts the ACL in EMQX 5 old-format {pub, sub} lists with ${clientid}/${username} left for EMQX, aud = broker id, no scope', async () => {
    await createBroker({
      id: 'emqx',
      acl: { pub: ['devices/${clientid}/#', 'users/${username}/#'], sub: ['commands/${clientid}/#'] },
      policy: { profile: 'emqx' },
    })
    const claims = await verify(await exchanged('emqx'), 'emqx')
    expect(claims.acl).toEqual({ pub: ['devices/${clientid}/#', 'users/${username}/#'], sub: ['commands/${clientid}/#'] })
    expect(Object.keys(claims.acl as object)).toEqual(['pub', 'sub'])
    expect(claims).not.toHaveProperty('scope')
    expect(claims).toMatchObject({ aud: 'emqx', sub: 'gateway-1', username: 'alice' })
  })
})

describe('broker profile default', () => {
  it('adds no profile claims: aud = broker id, EdDSA, acl as is, topicAcl for all topics', async () => {
    await createBroker({ id: 'plain' })
    const { c9 } = await adminIssued('plain', { clientIds: ['c9'] })
    expect(decodeProtectedHeader(c9!).alg).toBe('EdDSA')
    const claims = await verify(c9!, 'plain')
    expect(claims).toMatchObject({ aud: 'plain', acl: { pub: ['#'], sub: ['#'] }, topicAcl: '#' })
    expect(claims).not.toHaveProperty('scope')
  })
})
