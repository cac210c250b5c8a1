import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { decodeJwt } from 'jose'
import { TOKEN_EXCHANGE_GRANT, TOKEN_TYPE } from '@mqtt-oidc/core'
import { DEFAULT_CLOCK_TOLERANCE } from '@mqtt-oidc/jose'
import { ensureBroker } from '../src/ensure-broker.js'
import { startExchange } from './support/harness.js'
import type { Running } from './support/harness.js'
import { now, startTestIdp } from '@mqtt-oidc/test-support/test-idp'
import type { TestIdp } from '@mqtt-oidc/test-support/test-idp'

let idp: TestIdp
let corp: TestIdp
let ex: Running

beforeAll(async () => {
  ;[idp, corp] = await Promise.all([startTestIdp(), startTestIdp()])
})
afterAll(async () => {
  await Promise.all([idp.close(), corp.close()])
})
beforeEach(async () => {
  ex = await startExchange(idp, {
    maxSubjectTokenAge: 600,
    trustedIssuers: [{ issuer: corp.issuer, clientIds: ['gateway-app'], clientIdClaim: 'device_id', usernameClaim: 'preferred_username' }],
  })
  await ensureBroker(ex.store, {
    id: 'demo',
    acl: { pub: ['devices/${clientid}/#'], sub: ['devices/${clientid}/#', 'broadcast/#'] },
  })
})
afterEach(async () => {
  await ex.close()
})

const form = (subjectToken: string, extra: Record<string, string> = {}): Record<string, string> => ({
  grant_type: TOKEN_EXCHANGE_GRANT,
  subject_token: subjectToken,
  subject_token_type: TOKEN_TYPE.idToken,
  audience: 'demo',
  ...extra,
})

/** An RFC 9068 access token from the second issuer, for this exchange. */
const corpAccessToken = (claims: Record<string, unknown> = {}, header: Record<string, unknown> = {}): Promise<string> =>
  corp.sign(
    {
      iss: corp.issuer,
      aud: ex.exchange.issuer,
      sub: 'corp-user-7',
      client_id: 'gateway-app',
      device_id: 'press-42',
      preferred_username: 'bob',
      iat: now(),
      exp: now() + 300,
      ...claims,
    },
    { typ: 'at+jwt', ...header },
  )

async function granted(res: Response): Promise<{ body: Record<string, unknown>; claims: Record<string, unknown> }> {
  const body = (await res.json()) as Record<string, unknown>
  expect(res.status, JSON.stringify(body)).toBe(200)
  return { body, claims: decodeJwt(body.access_token as string) }
}

async function refused(res: Response, status: number, body: Record<string, string>): Promise<void> {
  expect({ status: res.status, body: await res.json() }).toEqual({ status, body })
}

describe('POST /token subject tokens from trusted issuers', () => {
  it('exchanges a JWT access token of another trusted issuer, taking the client id from its configured claim', async () => {
    const { body, claims } = await granted(await ex.exchangeToken(form(await corpAccessToken(), { subject_token_type: TOKEN_TYPE.accessToken })))
    expect(body).toEqual({ access_token: expect.any(String), issued_token_type: TOKEN_TYPE.jwt, token_type: 'N_A', expires_in: 3600 })
    expect(claims).toMatchObject({ aud: 'demo', sub: 'press-42', username: 'bob' })
    expect(await ex.store.credentials.get('demo', claims.jti as string)).toMatchObject({ issuedBy: 'corp-user-7', clientId: 'press-42' })
  })

  it('treats a jwt subject token with typ at+jwt as an access token', async () => {
    const { claims } = await granted(await ex.exchangeToken(form(await corpAccessToken(), { subject_token_type: TOKEN_TYPE.jwt })))
    expect(claims.sub).toBe('press-42')
  })

  it('refuses an access token issued to a client that is not accepted', async () => {
    const token = await corpAccessToken({ client_id: 'some-web-app' })
    await refused(await ex.exchangeToken(form(token, { subject_token_type: TOKEN_TYPE.accessToken })), 400, {
      error: 'invalid_request',
      error_description: 'subject_token was issued to a client that is not accepted here',
    })
  })

  it('refuses an access token meant for another resource server', async () => {
    const token = await corpAccessToken({ aud: 'https://api.example' })
    await refused(await ex.exchangeToken(form(token, { subject_token_type: TOKEN_TYPE.accessToken })), 400, {
      error: 'invalid_request',
      error_description: 'subject_token audience is not accepted here',
    })
  })

  it('refuses an ID token presented as an access token (its audience is a client, not this exchange)', async () => {
    await refused(await ex.exchangeToken(form(await idp.idToken(), { subject_token_type: TOKEN_TYPE.accessToken })), 400, {
      error: 'invalid_request',
      error_description: 'subject_token audience is not accepted here',
    })
  })

  it('refuses an ID token of the second issuer for a client id it does not accept', async () => {
    const token = await corp.sign({ iss: corp.issuer, aud: 'mqtt-oidc-cli', sub: 'u', device_id: 'd', iat: now(), exp: now() + 60 })
    await refused(await ex.exchangeToken(form(token)), 400, {
      error: 'invalid_request',
      error_description: 'subject_token audience is not accepted here',
    })
  })

  it('refuses a subject token older than the configured age even when it has not expired', async () => {
    // past the configured age by one second more than the clock tolerance every time check allows
    const token = await idp.idToken({ iat: now() - 600 - DEFAULT_CLOCK_TOLERANCE - 1, exp: now() + 3600 })
    await refused(await ex.exchangeToken(form(token)), 400, { error: 'invalid_request', error_description: 'subject_token is too old' })
  })

  it('does not refetch the JWKS for an unknown kid within the cooldown after a fetch', async () => {
    await granted(await ex.exchangeToken(form(await idp.idToken())))
    const fetches = idp.jwksFetches
    await refused(await ex.exchangeToken(form(await idp.idToken({}, { kid: 'no-such-key' }))), 400, {
      error: 'invalid_request',
      error_description: 'subject_token is not signed by a known key of the identity provider',
    })
    expect(idp.jwksFetches).toBe(fetches)
  })

  it('refetches the JWKS once when a token names a kid it has not seen (after the cooldown)', async () => {
    const eager = await startExchange(idp, { idp: { issuer: idp.issuer, jwksCooldownMs: 0 } })
    try {
      await ensureBroker(eager.store, { id: 'demo' })
      await granted(await eager.exchangeToken(form(await idp.idToken())))
      const fetches = idp.jwksFetches
      await idp.rotate()
      const [a, b] = await Promise.all([eager.exchangeToken(form(await idp.idToken())), eager.exchangeToken(form(await idp.idToken()))])
      await granted(a)
      await granted(b)
      expect(idp.jwksFetches).toBe(fetches + 1)
    } finally {
      await eager.close()
    }
  })
})

// What a provider nobody here configured puts in its tokens: Keycloak's realm roles under
// realm_access.roles, no claim made for MQTT (the client id derived from sub), a username in
// preferred_username or only in email.
describe('POST /token claim mapping of a trusted issuer', () => {
  let mapped: Running
  let kc: TestIdp
  beforeAll(async () => {
    kc = await startTestIdp()
  })
  afterAll(async () => {
    await kc.close()
  })
  beforeEach(async () => {
    mapped = await startExchange(idp, {
      trustedIssuers: [
        {
          issuer: kc.issuer,
          clientIds: ['mqtt-gateway'],
          clientIdClaim: 'sub',
          clientIdPrefix: 'kc-',
          usernameClaim: ['preferred_username', 'email'],
          groupsClaim: '/realm_access/roles',
        },
      ],
    })
    const created = await mapped.api('POST', '/admin/brokers', {
      id: 'demo',
      acl: { pub: ['devices/${clientid}/#'], sub: ['devices/${clientid}/#'] },
      policy: { aclTemplates: [{ when: { group: 'operators' }, acl: { pub: ['devices/#'], sub: ['devices/#'] } }] },
    })
    expect(created.status).toBe(201)
  })
  afterEach(async () => {
    await mapped.close()
  })
  const kcToken = (claims: Record<string, unknown>) =>
    kc.sign({ iss: kc.issuer, aud: 'mqtt-gateway', sub: '5f1c0e2a-77aa', iat: now(), exp: now() + 300, ...claims })

  it('derives the client id from sub with the prefix, the username from the first claim present, groups from a JSON pointer', async () => {
    const { claims } = await granted(
      await mapped.exchangeToken(form(await kcToken({ email: 'ann@example.com', realm_access: { roles: ['operators', 'offline_access'] } }))),
    )
    expect(claims).toMatchObject({ sub: 'kc-5f1c0e2a-77aa', username: 'ann@example.com', acl: { pub: ['devices/#'], sub: ['devices/#'] } })
    const second = await granted(await mapped.exchangeToken(form(await kcToken({ preferred_username: 'ann', email: 'ann@example.com' }))))
    expect(second.claims).toMatchObject({ sub: 'kc-5f1c0e2a-77aa', username: 'ann', acl: { pub: ['devices/${clientid}/#'] } })
  })

  it('refuses a mapped username that is not a short string, naming the claim', async () => {
    await refused(await mapped.exchangeToken(form(await kcToken({ preferred_username: ['not', 'a', 'string'] }))), 400, {
      error: 'invalid_request',
      error_description: 'subject_token has an invalid preferred_username claim',
    })
  })
})

describe('POST /token resource and scope', () => {
  it('accepts resource as an mqtts:// URI naming the broker', async () => {
    const f = form(await idp.idToken(), { resource: 'mqtts://broker.example:8883/demo' })
    delete f.audience
    expect((await granted(await ex.exchangeToken(f))).claims.aud).toBe('demo')
  })

  it('refuses audience and resource naming different brokers with invalid_target', async () => {
    await refused(await ex.exchangeToken(form(await idp.idToken(), { resource: 'mqtt://h/other' })), 400, {
      error: 'invalid_target',
      error_description: 'audience and resource name different brokers',
    })
  })

  it('narrows the ACL to the requested scope and says so in the response', async () => {
    const scope = 'pub:devices/${clientid}/telemetry sub:broadcast/alerts mqtt'
    const { body, claims } = await granted(await ex.exchangeToken(form(await idp.idToken(), { scope })))
    expect(body.scope).toBe('pub:devices/gateway-1/telemetry sub:broadcast/alerts')
    expect(claims.acl).toEqual({ pub: ['devices/gateway-1/telemetry'], sub: ['broadcast/alerts'] })
  })

  it('leaves the ACL (and the response) as they are for a scope of only mqtt', async () => {
    const { body, claims } = await granted(await ex.exchangeToken(form(await idp.idToken(), { scope: 'mqtt' })))
    expect(body.scope).toBeUndefined()
    expect(claims.acl).toEqual({ pub: ['devices/${clientid}/#'], sub: ['devices/${clientid}/#', 'broadcast/#'] })
  })

  it('refuses a scope wider than the broker allows with invalid_scope', async () => {
    await refused(await ex.exchangeToken(form(await idp.idToken(), { scope: 'pub:devices/+/telemetry' })), 400, {
      error: 'invalid_scope',
      error_description: 'scope "pub:devices/+/telemetry" is wider than this broker allows',
    })
    await refused(await ex.exchangeToken(form(await idp.idToken(), { scope: 'pub:broadcast/x' })), 400, {
      error: 'invalid_scope',
      error_description: 'scope "pub:broadcast/x" is wider than this broker allows',
    })
  })

  it('refuses a scope token it does not understand with invalid_scope', async () => {
    await refused(await ex.exchangeToken(form(await idp.idToken(), { scope: 'admin' })), 400, {
      error: 'invalid_scope',
      error_description: 'unknown scope "admin": use pub:<topic filter> or sub:<topic filter>',
    })
  })
})
