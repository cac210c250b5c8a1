import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { decodeJwt } from 'jose'
import { createAccount } from '../src/index.js'
import { completeAuthCodeLogin } from '@mqtt-oidc/test-support/idp-user-agent'
import { EXCHANGE_URL, startTestIdp, tokenRequest, type TestIdp } from './support/test-idp.js'

// The exchange's console as a built-in confidential client: the code flow
// with PKCE, an access token for the exchange's admin API, and the admin
// scope only for accounts in the admin group (checked at every issuance).

const CONSOLE_SECRET = 'console-secret-for-tests-0123456789abcdef'
const REDIRECT_URI = `${EXCHANGE_URL}/console/callback`
const ADMIN = { username: 'ada', password: 'ada-password-1' }
const PERSON = { username: 'pat', password: 'pat-password-1' }
const basic = `Basic ${Buffer.from(`mqtt-oidc-console:${CONSOLE_SECRET}`).toString('base64')}`

let t: TestIdp
let patId: string

beforeAll(async () => {
  t = await startTestIdp({ consoleClient: { clientSecret: CONSOLE_SECRET }, adminGroup: 'fleet-admins' }, async (store) => {
    await createAccount(store, { ...ADMIN, groups: ['fleet-admins'] })
    patId = (await createAccount(store, { ...PERSON, groups: ['ops'] })).id
  })
})
afterAll(async () => {
  await t?.close()
})

/** Signs `who` in to the console client and redeems the code as the console's server would. */
async function signIn(who: { username: string; password: string }, consent: string[] = []): Promise<Record<string, unknown>> {
  const verifier = 'console-test-verifier-0123456789-0123456789-abcdef'
  const challenge = Buffer.from(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier))).toString('base64url')
  const url = new URL(`${t.issuer}/auth`)
  url.search = new URLSearchParams({
    client_id: 'mqtt-oidc-console',
    response_type: 'code',
    redirect_uri: REDIRECT_URI,
    scope: 'openid mqtt-oidc:admin',
    resource: EXCHANGE_URL,
    state: 'state-1',
    nonce: 'nonce-1',
    code_challenge: challenge,
    code_challenge_method: 'S256',
  }).toString()
  const back = await completeAuthCodeLogin(url, { ...who, onConsent: (items) => consent.push(...items) })
  expect(back.origin + back.pathname).toBe(REDIRECT_URI)
  const res = await fetch(`${t.issuer}/token`, {
    method: 'POST',
    headers: { authorization: basic },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      code: back.searchParams.get('code') ?? '',
      redirect_uri: REDIRECT_URI,
      code_verifier: verifier,
      resource: EXCHANGE_URL,
    }),
  })
  expect(res.status).toBe(200)
  return (await res.json()) as Record<string, unknown>
}

async function refresh(refreshToken: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${t.issuer}/token`, {
    method: 'POST',
    headers: { authorization: basic },
    body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: String(refreshToken), resource: EXCHANGE_URL }),
  })
  return { status: res.status, body: (await res.json()) as Record<string, unknown> }
}

describe('the console client', () => {
  it('gives a member of the admin group an admin access token for the exchange that names them, and a refresh token', async () => {
    const consent: string[] = []
    const tokens = await signIn(ADMIN, consent)
    expect(consent).toEqual(['Know who you are (your account id)', 'Administer brokers, credentials, revocations and live sessions'])
    expect(tokens).toMatchObject({ token_type: 'Bearer', scope: 'mqtt-oidc:admin', refresh_token: expect.any(String), id_token: expect.any(String) })
    expect(decodeJwt(String(tokens.access_token))).toMatchObject({
      iss: t.issuer,
      aud: EXCHANGE_URL,
      client_id: 'mqtt-oidc-console',
      scope: 'mqtt-oidc:admin',
      username: 'ada',
      sub: expect.any(String),
    })
    expect(decodeJwt(String(tokens.id_token))).toMatchObject({ aud: 'mqtt-oidc-console', nonce: 'nonce-1' })
    const renewed = await refresh(tokens.refresh_token)
    expect(renewed.status).toBe(200)
    expect(decodeJwt(String(renewed.body.access_token))).toMatchObject({ scope: 'mqtt-oidc:admin', username: 'ada' })
  })

  it('gives anyone else a token without the admin scope, and takes the scope away at the next refresh of someone removed from the group', async () => {
    const consent: string[] = []
    const pat = await signIn(PERSON, consent)
    expect(consent).toEqual(['Know who you are (your account id)'])
    expect(decodeJwt(String(pat.access_token)).scope).toBeUndefined()

    await t.store.accounts.update(patId, { groups: ['ops', 'fleet-admins'] })
    const promoted = await signIn(PERSON)
    expect(decodeJwt(String(promoted.access_token)).scope).toBe('mqtt-oidc:admin')
    await t.store.accounts.update(patId, { groups: ['ops'] })
    const demoted = await refresh(promoted.refresh_token)
    expect(demoted.status).toBe(200)
    expect(decodeJwt(String(demoted.body.access_token)).scope).toBeUndefined()
  })

  it('stops refreshing once the account is disabled', async () => {
    const tokens = await signIn(PERSON)
    await t.store.accounts.update(patId, { disabled: true })
    try {
      expect(await refresh(tokens.refresh_token)).toEqual({ status: 400, body: { error: 'invalid_grant', error_description: 'grant request is invalid' } })
    } finally {
      await t.store.accounts.update(patId, { disabled: false })
    }
  })

  it('is confidential: its code is redeemed with its secret only, and nothing but the console may ask for the exchange as a person', async () => {
    const res = await fetch(`${t.issuer}/token`, {
      method: 'POST',
      body: new URLSearchParams({ client_id: 'mqtt-oidc-console', grant_type: 'refresh_token', refresh_token: 'x' }),
    })
    expect(res.status).toBe(401)
    const cli = await tokenRequest(t.issuer, { grant_type: 'refresh_token', refresh_token: 'x', resource: EXCHANGE_URL })
    expect(cli.body).toMatchObject({ error: expect.stringMatching(/invalid_target|invalid_grant/) })
  })
})
