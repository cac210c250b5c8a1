import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import * as oidc from 'openid-client'
import { completeDeviceLogin, ScriptedBrowser } from '@mqtt-oidc/test-support/idp-user-agent'
import { createAccount, setAccountClientIdMode } from '../src/index.js'
import { SCOPE, startTestIdp, type TestIdp } from './support/test-idp.js'

const PASSWORD = 'correct horse battery'
// `<first configured id>-<10 lowercase base32 characters>`
const DERIVED = (base: string) => new RegExp(`^${base}-[a-z2-7]{10}$`)

let t: TestIdp

beforeAll(async () => {
  t = await startTestIdp({}, async (store) => {
    await createAccount(store, { username: 'person', password: PASSWORD, clientIds: ['phone'] })
    await createAccount(store, { username: 'fleet', password: PASSWORD, clientIds: ['gw-1', 'gw-2'] })
    await createAccount(store, { username: 'picker', password: PASSWORD, clientIds: ['pc-1', 'pc-2'] })
    await createAccount(store, { username: 'gateway', password: PASSWORD, clientIds: ['gw-shared'], clientIdMode: 'shared' })
  })
})
afterAll(async () => {
  await t?.close()
})

/** One device's sign-in: device authorization, the person confirms in `browser` (default a fresh one). */
async function deviceSignIn(username: string, params: Record<string, string> = {}, browser?: ScriptedBrowser) {
  const da = await oidc.initiateDeviceAuthorization(t.config, { scope: SCOPE, ...params })
  const polling = oidc.pollDeviceAuthorizationGrant(t.config, da)
  await completeDeviceLogin({ verificationUriComplete: da.verification_uri_complete, username, password: PASSWORD, browser })
  return polling
}

describe('clientid claim of a per-login account (the default)', () => {
  it('gives two devices of one person different client ids: the configured one, then a derived one', async () => {
    const first = await deviceSignIn('person')
    const second = await deviceSignIn('person')
    expect(first.claims()).toMatchObject({ clientid: 'phone', username: 'person' })
    expect(second.claims()?.clientid).toMatch(DERIVED('phone'))
    expect(await oidc.fetchUserInfo(t.config, second.access_token, String(second.claims()?.sub))).toMatchObject({ clientid: second.claims()?.clientid })
  })

  it('hands out the configured client ids first, one per device, also when one browser confirms both', async () => {
    const browser = new ScriptedBrowser()
    const a = await deviceSignIn('fleet', {}, browser)
    const b = await deviceSignIn('fleet', {}, browser)
    expect([a.claims()?.clientid, b.claims()?.clientid]).toEqual(['gw-1', 'gw-2'])
    expect(a.claims()?.sub).toBe(b.claims()?.sub)
  })

  it("keeps the grant's client id in every refreshed ID token, across rotations", async () => {
    const device = await deviceSignIn('person')
    const clientid = device.claims()?.clientid
    expect(clientid).toMatch(DERIVED('phone'))
    const once = await oidc.refreshTokenGrant(t.config, device.refresh_token ?? '')
    const twice = await oidc.refreshTokenGrant(t.config, once.refresh_token ?? '')
    expect([once.claims()?.clientid, twice.claims()?.clientid]).toEqual([clientid, clientid])
  })

  it('honours the clientid parameter, and the next automatic pick avoids the id it holds', async () => {
    const explicit = await deviceSignIn('picker', { clientid: 'pc-1' })
    expect(explicit.claims()).toMatchObject({ clientid: 'pc-1' })
    expect((await deviceSignIn('picker')).claims()).toMatchObject({ clientid: 'pc-2' })
    const refreshed = await oidc.refreshTokenGrant(t.config, explicit.refresh_token ?? '')
    expect(refreshed.claims()).toMatchObject({ clientid: 'pc-1' })
  })

  it('frees a client id when its grant is revoked', async () => {
    await createAccount(t.store, { username: 'reuser', password: PASSWORD, clientIds: ['ru-1'] })
    const first = await deviceSignIn('reuser')
    expect(first.claims()).toMatchObject({ clientid: 'ru-1' })
    await oidc.tokenRevocation(t.config, first.refresh_token ?? '', { token_type_hint: 'refresh_token' })
    expect((await deviceSignIn('reuser')).claims()).toMatchObject({ clientid: 'ru-1' })
  })
})

describe('clientid claim of a shared account', () => {
  it("gives every device sign-in the account's first client id", async () => {
    const first = await deviceSignIn('gateway')
    const second = await deviceSignIn('gateway')
    expect([first.claims()?.clientid, second.claims()?.clientid]).toEqual(['gw-shared', 'gw-shared'])
    const refreshed = await oidc.refreshTokenGrant(t.config, second.refresh_token ?? '')
    expect(refreshed.claims()).toMatchObject({ clientid: 'gw-shared' })
  })

  it('switches with setAccountClientIdMode: a shared account made per-login stops sharing', async () => {
    await createAccount(t.store, { username: 'switcher', password: PASSWORD, clientIds: ['sw'], clientIdMode: 'shared' })
    expect((await deviceSignIn('switcher')).claims()).toMatchObject({ clientid: 'sw' })
    expect((await deviceSignIn('switcher')).claims()).toMatchObject({ clientid: 'sw' })
    expect(await setAccountClientIdMode(t.store, 'switcher', 'per-login')).toMatchObject({ clientIdMode: 'per-login' })
    const first = await deviceSignIn('switcher')
    const second = await deviceSignIn('switcher')
    expect(new Set([first.claims()?.clientid, second.claims()?.clientid]).size).toBe(2)
    await expect(setAccountClientIdMode(t.store, 'nobody', 'shared')).rejects.toMatchObject({ code: 'ERR_NOT_FOUND' })
  })
})
