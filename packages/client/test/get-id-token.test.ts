import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Configuration } from 'openid-client'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { createTokenStore } from '../src/create-token-store.js'
import type { TokenStore } from '../src/create-token-store.js'
import { discoverIssuer } from '../src/discover-issuer.js'
import { LoginRequired } from '../src/errors.js'
import { getIdToken } from '../src/get-id-token.js'
import { tokenStoreKey } from '../src/token-store-key.js'
import { startMiniOidc } from '@mqtt-oidc/test-support/mini-oidc'
import type { MiniOidc } from '@mqtt-oidc/test-support/mini-oidc'

let idp: MiniOidc
let config: Configuration
let dir: string
let store: TokenStore

beforeAll(async () => {
  idp = await startMiniOidc()
  config = await discoverIssuer(idp.issuer, idp.clientId)
})
afterAll(async () => idp.close())
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'mqtt-oidc-getid-'))
  store = createTokenStore(dir)
  idp.hits.clear()
  idp.failRefreshWith(undefined)
  return () => rmSync(dir, { recursive: true, force: true })
})

describe('getIdToken (cache + refresh_token grant)', () => {
  it('returns the stored ID token without contacting the IdP while it is fresh', async () => {
    const tokens = await idp.login(3600)
    await store.set(tokenStoreKey(config), tokens)
    expect(await getIdToken(config, store)).toBe(tokens.idToken)
    expect(idp.hitCount('POST /token')).toBe(0)
  })

  it('refreshes an expired ID token and stores the rotated refresh token', async () => {
    const old = await idp.login(-10)
    await store.set(tokenStoreKey(config), old)
    const idToken = await getIdToken(config, store)
    expect(idToken).not.toBe(old.idToken)
    expect(idp.hitCount('grant:refresh_token')).toBe(1)
    const stored = await store.get(tokenStoreKey(config))
    expect(stored?.idToken).toBe(idToken)
    expect(stored?.refreshToken).not.toBe(old.refreshToken)
    expect(stored?.expiresAt).toBeGreaterThan(Date.now() / 1000 + 200)
  })

  it('refreshes ahead of expiry: 30 s left of an hour is inside the 60 s skew', async () => {
    await store.set(tokenStoreKey(config), await idp.login(3600))
    const almost = await idp.login(3600)
    await store.set(tokenStoreKey(config), { ...almost, expiresAt: Math.floor(Date.now() / 1000) + 30 })
    await getIdToken(config, store)
    expect(idp.hitCount('grant:refresh_token')).toBe(1)
  })

  it('redeems a rotating refresh token once when two stores refresh at the same moment', async () => {
    await store.set(tokenStoreKey(config), await idp.login(-10))
    const other = createTokenStore(dir)
    const [a, b] = await Promise.all([getIdToken(config, store), getIdToken(config, other)])
    expect(a).toBe(b)
    expect(idp.hitCount('grant:refresh_token')).toBe(1)
  })

  it('throws LoginRequired (ERR_LOGIN_REQUIRED) when nothing is stored', async () => {
    const err = await getIdToken(config, store).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(LoginRequired)
    expect(err).toMatchObject({ code: 'ERR_LOGIN_REQUIRED', message: 'not logged in: run `mqtt-oidc login --device`' })
  })

  it('throws LoginRequired when the IdP refuses the refresh token', async () => {
    await store.set(tokenStoreKey(config), await idp.login(-10))
    idp.failRefreshWith('invalid_grant')
    await expect(getIdToken(config, store)).rejects.toMatchObject({
      code: 'ERR_LOGIN_REQUIRED',
      message: 'the identity provider refused the refresh token (invalid_grant): run `mqtt-oidc login --device`',
    })
  })

  it('throws LoginRequired for an expired login without a refresh token', async () => {
    const { refreshToken: _drop, ...tokens } = await idp.login(-10)
    await store.set(tokenStoreKey(config), tokens)
    await expect(getIdToken(config, store)).rejects.toMatchObject({ code: 'ERR_LOGIN_REQUIRED' })
  })

  it('keeps using a still-valid ID token when the IdP cannot be reached, and fails once it has expired', async () => {
    const down = await startMiniOidc()
    const downConfig = await discoverIssuer(down.issuer, down.clientId)
    await down.close()
    const almost = await idp.login(3600)
    await store.set(tokenStoreKey(downConfig), { ...almost, expiresAt: Math.floor(Date.now() / 1000) + 30 })
    expect(await getIdToken(downConfig, store)).toBe(almost.idToken)
    await store.set(tokenStoreKey(downConfig), await idp.login(-10))
    const err = await getIdToken(downConfig, store).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(Error)
    expect(err).not.toBeInstanceOf(LoginRequired)
  })
})
