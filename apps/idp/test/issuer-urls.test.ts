import { request } from 'node:http'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CLI_CLIENT_ID, SCOPE, startTestIdp, type TestIdp } from './support/test-idp.js'

// The IdP has one issuer, and every URL it writes is under it, however the
// request reached it: inside a compose network clients reach it as
// http://idp:4000 while people and tokens know it as http://localhost:4000;
// behind a load balancer it is reached by an internal name. oidc-provider
// builds URLs from the request's Host, so a Host the issuer does not name
// must not leak into discovery or into the code page a person is sent to.

let direct: TestIdp
let behind: TestIdp
beforeAll(async () => {
  ;[direct, behind] = await Promise.all([startTestIdp(), startTestIdp({ trustedProxies: 1 })])
})
afterAll(async () => {
  await direct?.close()
  await behind?.close()
})

/** A request to the IdP's own address with other Host / X-Forwarded-Host headers; the parsed JSON body. */
function call(t: TestIdp, method: string, path: string, headers: Record<string, string>, body?: string): Promise<Record<string, unknown>> {
  const url = new URL(path, t.issuer)
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers: { ...headers, ...(body ? { 'content-type': 'application/x-www-form-urlencoded' } : {}) } }, (res) => {
      let text = ''
      res
        .setEncoding('utf8')
        .on('data', (d: string) => {
          text += d
        })
        .on('end', () => resolve(JSON.parse(text) as Record<string, unknown>))
    })
    req.on('error', reject)
    req.end(body)
  })
}

describe('URLs the IdP writes', () => {
  it('names the issuer in discovery when reached under another Host', async () => {
    const meta = await call(direct, 'GET', '/.well-known/openid-configuration', { host: 'idp:4000' })
    expect(meta.issuer).toBe(direct.issuer)
    for (const key of ['authorization_endpoint', 'token_endpoint', 'device_authorization_endpoint', 'jwks_uri', 'userinfo_endpoint']) {
      expect(String(meta[key]), key).toMatch(new RegExp(`^${direct.issuer}/`))
    }
  })

  it("sends a person to the issuer's code page when the device asked under another Host", async () => {
    const body = new URLSearchParams({ client_id: CLI_CLIENT_ID, scope: SCOPE }).toString()
    const da = await call(direct, 'POST', '/device/auth', { host: 'idp:4000' }, body)
    expect(da.verification_uri).toBe(`${direct.issuer}/device`)
    expect(String(da.verification_uri_complete)).toMatch(new RegExp(`^${direct.issuer}/device\\?user_code=`))
  })

  it('ignores X-Forwarded-Host from a trusted proxy too', async () => {
    const meta = await call(behind, 'GET', '/.well-known/openid-configuration', { 'x-forwarded-host': 'evil.example', 'x-forwarded-proto': 'https' })
    // The proxy's X-Forwarded-Proto still counts (TLS ends at the proxy); only the host is the issuer's.
    expect(new URL(String(meta.token_endpoint)).host).toBe(new URL(behind.issuer).host)
  })
})
