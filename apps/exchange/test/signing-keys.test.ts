import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createSqliteStore } from '@mqtt-oidc/store'
import { startExchange } from './support/harness.js'
import { startTestIdp } from '@mqtt-oidc/test-support/test-idp'
import type { TestIdp } from '@mqtt-oidc/test-support/test-idp'

let idp: TestIdp
let dir: string

beforeAll(async () => {
  idp = await startTestIdp()
  dir = mkdtempSync(join(tmpdir(), 'mqtt-oidc-exchange-keys-'))
})
afterAll(async () => {
  await idp.close()
  rmSync(dir, { recursive: true, force: true })
})

const jwks = async (url: string): Promise<{ cacheControl: string | null; body: unknown }> => {
  const res = await fetch(`${url}/.well-known/jwks.json`)
  return { cacheControl: res.headers.get('cache-control'), body: await res.json() }
}

describe('GET /.well-known/jwks.json', () => {
  it('publishes one Ed25519 public key and keeps it across a restart on the same store', async () => {
    const first = await startExchange(idp, { dir })
    const before = await jwks(first.url)
    expect(before).toEqual({
      cacheControl: 'public, max-age=300',
      body: { keys: [{ kty: 'OKP', crv: 'Ed25519', x: expect.any(String), kid: expect.any(String), alg: 'EdDSA', use: 'sig' }] },
    })
    await first.close()

    const second = await startExchange(idp, { dir })
    expect((await jwks(second.url)).body).toEqual(before.body)
    const stored = await second.store.keys.list('exchange')
    expect(stored).toHaveLength(1)
    await second.close()
  })

  it('never publishes private key material', async () => {
    const ex = await startExchange(idp)
    const { body } = await jwks(ex.url)
    expect(JSON.stringify(body)).not.toMatch(/"d"/)
    await ex.close()
  })

  it('serves authorization server metadata naming the token endpoint and JWKS', async () => {
    const ex = await startExchange(idp)
    const res = await fetch(`${ex.url}/.well-known/oauth-authorization-server`)
    expect(await res.json()).toMatchObject({
      issuer: ex.exchange.issuer,
      token_endpoint: `${ex.exchange.issuer}/token`,
      jwks_uri: `${ex.exchange.issuer}/.well-known/jwks.json`,
      grant_types_supported: ['urn:ietf:params:oauth:grant-type:token-exchange'],
      token_endpoint_auth_methods_supported: ['none'],
    })
    await ex.close()
  })

  // RFC 8414 §2: REQUIRED even without an authorization endpoint; an empty list reads as missing to
  // validators (authlib), and `none` (OAuth 2.0 Multiple Response Type Encoding Practices §4) issues nothing.
  it('states response_types_supported, which RFC 8414 requires, and no authorization endpoint', async () => {
    const ex = await startExchange(idp)
    const body = (await (await fetch(`${ex.url}/.well-known/oauth-authorization-server`)).json()) as Record<string, unknown>
    expect(body.response_types_supported).toEqual(['none'])
    expect(body).not.toHaveProperty('authorization_endpoint')
  })
})

describe('store sharing', () => {
  it('a store holding IdP keys still gets its own exchange key', async () => {
    const store = createSqliteStore(join(dir, 'shared.sqlite'))
    await store.keys.add({ kid: 'idp-k', alg: 'RS256', owner: 'idp', privateJwk: { kty: 'RSA' }, createdAt: 1, retiredAt: null })
    const ex = await startExchange(idp, { store })
    const { body } = (await jwks(ex.url)) as { body: { keys: { kid: string }[] } }
    expect(body.keys.map((k) => k.kid)).not.toContain('idp-k')
    await ex.close()
  })
})
