import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import * as oidc from 'openid-client'
import { createAccount } from '../src/index.js'
import { completeAuthCodeLogin, ScriptedBrowser } from '@mqtt-oidc/test-support/idp-user-agent'
import { SCOPE, startTestIdp, tokenRequest, type TestIdp } from './support/test-idp.js'

const ALICE = { username: 'alice', password: 'correct horse battery' }
const INVALID_GRANT = { error: 'invalid_grant', error_description: 'grant request is invalid' }

let t: TestIdp
let redirectUri: string

beforeAll(async () => {
  t = await startTestIdp({}, async (store) => {
    await createAccount(store, { ...ALICE, clientIds: ['alice-laptop'], clientIdMode: 'shared' })
  })
  redirectUri = 'http://127.0.0.1:49152/callback'
})
afterAll(async () => {
  await t?.close()
})

interface Authorized {
  callback: URL
  verifier: string
  state: string
  nonce: string
}

/** Runs the browser part of the flow as alice and returns where the IdP sent her back. */
async function authorize(extra: Record<string, string | undefined> = {}, browser = new ScriptedBrowser(), consentSeen?: string[][]): Promise<Authorized> {
  const verifier = oidc.randomPKCECodeVerifier()
  const state = oidc.randomState()
  const nonce = oidc.randomNonce()
  const params = Object.entries({
    redirect_uri: redirectUri,
    scope: SCOPE,
    state,
    nonce,
    prompt: 'consent',
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    ...extra,
  }).filter((entry): entry is [string, string] => entry[1] !== undefined)
  const url = oidc.buildAuthorizationUrl(t.config, Object.fromEntries(params))
  return {
    callback: await completeAuthCodeLogin(url, { ...ALICE, browser, onConsent: consentSeen && ((items) => consentSeen.push(items)) }),
    verifier,
    state,
    nonce,
  }
}

const exchange = (a: Authorized, verifier = a.verifier) =>
  oidc.authorizationCodeGrant(t.config, a.callback, { pkceCodeVerifier: verifier, expectedState: a.state, expectedNonce: a.nonce })

const rawExchange = (code: string, verifier: string) =>
  tokenRequest(t.issuer, { grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: redirectUri })

describe('GET /auth: PKCE (RFC 7636, S256 only)', () => {
  it('refuses code_challenge_method=plain with invalid_request at the redirect URI', async () => {
    const url = oidc.buildAuthorizationUrl(t.config, {
      redirect_uri: redirectUri,
      scope: SCOPE,
      state: 's1',
      code_challenge: oidc.randomPKCECodeVerifier(),
      code_challenge_method: 'plain',
    })
    const res = await fetch(url, { redirect: 'manual' })
    expect(res.status).toBe(303)
    expect(Object.fromEntries(new URL(res.headers.get('location') ?? '').searchParams)).toEqual({
      error: 'invalid_request',
      error_description: 'not supported value of code_challenge_method',
      state: 's1',
      iss: t.issuer,
    })
  })

  it('advertises S256 as the only code_challenge_method', async () => {
    const metadata = t.config.serverMetadata()
    expect(metadata.code_challenge_methods_supported).toEqual(['S256'])
  })
})

describe('POST /token grant_type=authorization_code', () => {
  it('exchanges the code with the right verifier; state and nonce are checked by openid-client', async () => {
    const a = await authorize()
    const tokens = await exchange(a)
    expect(tokens.claims()).toMatchObject({ iss: t.issuer, aud: 'mqtt-oidc-cli', nonce: a.nonce, clientid: 'alice-laptop', username: 'alice' })
  })

  it('refuses a wrong verifier with invalid_grant, and the code is spent: the right verifier no longer works', async () => {
    const a = await authorize()
    const code = a.callback.searchParams.get('code') ?? ''
    expect(await rawExchange(code, oidc.randomPKCECodeVerifier())).toEqual({ status: 400, body: INVALID_GRANT })
    await expect(exchange(a)).rejects.toMatchObject({ error: 'invalid_grant' })
  })

  it('refuses a verifier shorter than 43 characters with invalid_request', async () => {
    const a = await authorize()
    const code = a.callback.searchParams.get('code') ?? ''
    expect(await rawExchange(code, 'too-short-verifier')).toEqual({
      status: 400,
      body: { error: 'invalid_request', error_description: 'code_verifier must be a string with a minimum length of 43 characters' },
    })
  })

  it('refuses a replayed code and revokes what the first exchange issued', async () => {
    const a = await authorize()
    const tokens = await exchange(a)
    const code = a.callback.searchParams.get('code') ?? ''
    expect(await rawExchange(code, a.verifier)).toEqual({ status: 400, body: INVALID_GRANT })
    await expect(oidc.refreshTokenGrant(t.config, tokens.refresh_token ?? '')).rejects.toMatchObject({ error: 'invalid_grant' })
    const introspection = await oidc.tokenIntrospection(t.config, tokens.access_token)
    expect(introspection.active).toBe(false)
  })
})

describe('POST /token grant_type=refresh_token: rotation and reuse detection', () => {
  it('rotates the refresh token on every use', async () => {
    const first = await exchange(await authorize())
    const second = await oidc.refreshTokenGrant(t.config, first.refresh_token ?? '')
    const third = await oidc.refreshTokenGrant(t.config, second.refresh_token ?? '')
    expect(new Set([first.refresh_token, second.refresh_token, third.refresh_token]).size).toBe(3)
    expect(third.claims()).toMatchObject({ clientid: 'alice-laptop', username: 'alice' })
  })

  it('revokes the whole grant when an old refresh token is replayed', async () => {
    const first = await exchange(await authorize())
    const second = await oidc.refreshTokenGrant(t.config, first.refresh_token ?? '')
    // The thief replays the first token: refused, and the grant is revoked...
    expect(await tokenRequest(t.issuer, { grant_type: 'refresh_token', refresh_token: first.refresh_token ?? '' })).toEqual({
      status: 400,
      body: INVALID_GRANT,
    })
    // ...so the legitimate holder's current token and access token stop working too.
    await expect(oidc.refreshTokenGrant(t.config, second.refresh_token ?? '')).rejects.toMatchObject({ error: 'invalid_grant' })
    expect((await oidc.tokenIntrospection(t.config, second.access_token)).active).toBe(false)
  })

  // OIDC Core §11: offline_access needs the End-User's consent. Without prompt=consent in the
  // request the IdP asks for it anyway (the consent page names it), instead of dropping the scope.
  it('issues a refresh token for offline_access without prompt=consent, after the consent page asked for it', async () => {
    const consents: string[][] = []
    const a = await authorize({ prompt: undefined }, new ScriptedBrowser(), consents)
    const tokens = await exchange(a)
    expect(tokens.refresh_token).toEqual(expect.any(String))
    expect(tokens.scope?.split(' ')).toContain('offline_access')
    expect(consents).toEqual([expect.arrayContaining(['Stay signed in on that device (refresh tokens)'])])
    expect((await oidc.refreshTokenGrant(t.config, tokens.refresh_token ?? '')).access_token).toEqual(expect.any(String))
  })

  it('issues no refresh token without offline_access', async () => {
    const tokens = await exchange(await authorize({ scope: 'openid mqtt' }))
    expect(tokens.refresh_token).toBeUndefined()
  })
})
