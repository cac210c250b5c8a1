import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { decodeJwt } from 'jose'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createSqliteStore } from '@mqtt-oidc/store'
import type { Store } from '@mqtt-oidc/core'
import { createExchange } from '@mqtt-oidc/exchange'
import type { Exchange } from '@mqtt-oidc/exchange'
import { freePort } from '@mqtt-oidc/test-support/free-port'
import { discoverIssuer } from '../src/discover-issuer.js'
import { InsecureUrl } from '../src/errors.js'
import { exchangeToken } from '../src/exchange-token.js'
import { loginWithDeviceFlow } from '../src/login-with-device-flow.js'
import { startMiniOidc } from '@mqtt-oidc/test-support/mini-oidc'
import type { MiniOidc } from '@mqtt-oidc/test-support/mini-oidc'

// A container on a compose network reaches the IdP as http://idp:4000 and the
// exchange as http://exchange:4001, while the issuer people, pages and tokens
// name is http://localhost:4000 (the host's published port). Here the public
// URLs are loopback ports nobody listens on, and the servers listen elsewhere:
// every request must go to the fetch-from address, and every check must still
// be made against the public URL.

let dir: string
let idp: MiniOidc
let store: Store
let exchange: Exchange
let exchangeAt: string
let publicExchange: string

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'mqtt-oidc-fetch-from-'))
  idp = await startMiniOidc({ issuer: `http://localhost:${await freePort()}` })
  publicExchange = `http://localhost:${await freePort()}`
  store = createSqliteStore(join(dir, 'exchange.sqlite'))
  exchange = createExchange({ store, issuer: publicExchange, idp: { issuer: idp.issuer, jwksUri: `${idp.address}/jwks` }, logLevel: 'silent' })
  exchangeAt = (await exchange.listen()).url
})

afterAll(async () => {
  await exchange?.close()
  await store?.close()
  await idp?.close()
  rmSync(dir, { recursive: true, force: true })
})

describe('discoverIssuer fetchFrom', () => {
  it('signs in with the device flow through the other address, showing and checking the public issuer', async () => {
    const config = await discoverIssuer(idp.issuer, 'mqtt-oidc-cli', { fetchFrom: idp.address })
    expect(config.serverMetadata().issuer).toBe(idp.issuer)
    const shown: string[] = []
    const tokens = await loginWithDeviceFlow(config, {
      onPrompt: ({ verificationUri, userCode }) => {
        shown.push(verificationUri)
        idp.decide(userCode, true)
      },
    })
    expect(shown).toEqual([`${idp.issuer}/device`])
    expect(decodeJwt(tokens.idToken)).toMatchObject({ iss: idp.issuer, aud: 'mqtt-oidc-cli' })
    expect(idp.hitCount('GET /.well-known/openid-configuration')).toBeGreaterThan(0)
  })

  it('refuses a server at the other address that names another issuer', async () => {
    const elsewhere = `http://localhost:${await freePort()}`
    await expect(discoverIssuer(elsewhere, 'mqtt-oidc-cli', { fetchFrom: idp.address })).rejects.toMatchObject({ code: 'OAUTH_JSON_ATTRIBUTE_COMPARISON_FAILED' })
  })

  it('refuses plain http to another host for an https issuer or exchange, before sending anything', async () => {
    const refused = discoverIssuer('https://idp.example.com', 'mqtt-oidc-cli', { fetchFrom: 'http://idp:4000' })
    await expect(refused).rejects.toThrow(InsecureUrl)
    await expect(refused).rejects.toThrow('issuer fetch-from URL "http://idp:4000" must use https:// (plain http:// is allowed for localhost / 127.0.0.1 only)')
    await expect(exchangeToken({ exchangeUrl: 'https://exchange.example.com', fetchFrom: 'http://exchange:4001', broker: 'demo', subjectToken: 'x' }))
      .rejects.toThrow('exchange fetch-from URL "http://exchange:4001" must use https://')
  })
})
