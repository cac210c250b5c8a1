import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { startExchange } from './support/harness.js'
import type { Running } from './support/harness.js'
import { now, startTestIdp } from '@mqtt-oidc/test-support/test-idp'
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

async function expectRefusal(res: Response, status: number, wwwAuthenticate: string, body: Record<string, string>): Promise<void> {
  expect({ status: res.status, www: res.headers.get('www-authenticate'), body: await res.json() }).toEqual({ status, www: wwwAuthenticate, body })
}

const INVALID = 'Bearer realm="mqtt-oidc", error="invalid_token"'

describe('admin API authentication (Bearer JWT access tokens, RFC 6750 / RFC 9068)', () => {
  it('answers 401 with a bare Bearer challenge when no token is sent, even on loopback', async () => {
    await expectRefusal(await fetch(`${ex.url}/admin/brokers`), 401, 'Bearer realm="mqtt-oidc"', {
      error: 'invalid_token',
      error_description: 'an access token with scope mqtt-oidc:admin is required',
    })
  })

  it('answers 401 invalid_token for a token that is not an at+jwt (an ID token)', async () => {
    const res = await ex.api('GET', '/admin/brokers', undefined, await idp.idToken({ aud: ex.exchange.issuer, scope: 'mqtt-oidc:admin' }))
    await expectRefusal(res, 401, INVALID, { error: 'invalid_token', error_description: 'access token has the wrong typ header' })
  })

  it('answers 401 invalid_token for an access token for another audience', async () => {
    const res = await ex.api('GET', '/admin/brokers', undefined, await idp.accessToken('http://127.0.0.1:1'))
    await expectRefusal(res, 401, INVALID, { error: 'invalid_token', error_description: 'access token audience is not accepted here' })
  })

  it('answers 401 invalid_token for an expired access token', async () => {
    const token = await idp.accessToken(ex.exchange.issuer, { iat: now() - 600, exp: now() - 300 })
    await expectRefusal(await ex.api('GET', '/admin/brokers', undefined, token), 401, INVALID, {
      error: 'invalid_token',
      error_description: 'access token has expired',
    })
  })

  it('answers 401 invalid_token for a malformed Bearer credential', async () => {
    const res = await fetch(`${ex.url}/admin/brokers`, { headers: { authorization: 'Bearer not a token' } })
    await expectRefusal(res, 401, INVALID, {
      error: 'invalid_token',
      error_description: 'the Authorization header is not a well-formed Bearer credential',
    })
  })

  it('answers 403 insufficient_scope for a valid token without mqtt-oidc:admin', async () => {
    const token = await idp.accessToken(ex.exchange.issuer, { scope: 'openid mqtt' })
    await expectRefusal(
      await ex.api('GET', '/admin/brokers', undefined, token),
      403,
      'Bearer realm="mqtt-oidc", error="insufficient_scope", scope="mqtt-oidc:admin"',
      { error: 'insufficient_scope', error_description: 'the access token lacks scope mqtt-oidc:admin' },
    )
  })

  it('accepts an access token whose audience has a trailing slash', async () => {
    const token = await idp.accessToken(`${ex.exchange.issuer}/`)
    expect((await ex.api('GET', '/admin/brokers', undefined, token)).status).toBe(200)
  })
})
