import { Writable } from 'node:stream'
import { pino } from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { verifyAccountPassword } from '../src/index.js'
import { adminApi, adminToken, ok, refused, type AdminApi } from './support/admin-api.js'
import { startTestIdp, type TestIdp } from './support/test-idp.js'

// The accounts and signing keys of the IdP's admin API, on a real IdP with a
// real SQLite file, called as the CLI calls it: an admin access token from
// the IdP's own client credentials grant.

const PASSWORD = 'first-password-4217'
const logged: string[] = []
let t: TestIdp
let api: AdminApi

beforeAll(async () => {
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      logged.push(chunk.toString())
      done()
    },
  })
  t = await startTestIdp({ logger: pino({ level: 'debug' }, sink) })
  api = adminApi(t.issuer, await adminToken(t.issuer))
})
afterAll(async () => {
  await t?.close()
})

const account = (fields: Record<string, unknown>): Record<string, unknown> => ({
  id: expect.stringMatching(/^[0-9A-Z]{26}$/),
  groups: [],
  disabled: false,
  createdAt: expect.any(Number),
  clientIdMode: 'per-login',
  ...fields,
})

describe('POST /admin/accounts', () => {
  it('creates an account and answers with it, never its password or hash', async () => {
    const res = await api('POST', '/accounts', { username: 'gw-owner', password: PASSWORD, clientIds: ['gw-17', 'gw-18'], groups: ['ops'] })
    const body = await ok(res, 201)
    expect(body).toEqual(account({ username: 'gw-owner', clientIds: ['gw-17', 'gw-18'], groups: ['ops'] }))
    expect(res.headers.get('location')).toBe('/admin/accounts/gw-owner')
    expect(await verifyAccountPassword(t.store, 'gw-owner', PASSWORD)).toMatchObject({ id: body.id })
  })

  it('gives an account without client ids one made up, in the shared mode when asked', async () => {
    const body = await ok(await api('POST', '/accounts', { username: 'kiosk', password: PASSWORD, clientIdMode: 'shared' }), 201)
    expect(body).toEqual(account({ username: 'kiosk', clientIds: [expect.stringMatching(/^[0-9A-Z]{26}$/)], clientIdMode: 'shared' }))
  })

  it('refuses bad input listing every problem, and creates nothing', async () => {
    await refused(await api('POST', '/accounts', { username: 'bad name', password: 'short', clientIds: ['a/+/#'], groups: ['', 'ops', 'ops'] }), 400, {
      error: 'invalid_request',
      error_description:
        'username must be 1-64 letters, digits or . _ @ -; password must be 8-1024 characters; client id "a/+/#" may not contain "/", "+" or "#"; ' +
        'group "" must be 1-256 characters without control characters; groups must be unique',
    })
    await refused(await api('POST', '/accounts', { username: 'eve', clientIdMode: 'everyone', pasword: PASSWORD }), 400, {
      error: 'invalid_request',
      error_description: 'password must be a string; clientIdMode must be one of per-login, shared; Unrecognized key: "pasword"',
    })
    expect((await t.store.accounts.list()).map((a) => a.username).sort()).toEqual(['gw-owner', 'kiosk'])
  })

  it('refuses a taken username and a client id another account holds, saying whose', async () => {
    await refused(await api('POST', '/accounts', { username: 'gw-owner', password: PASSWORD }), 409, {
      error: 'conflict',
      error_description: 'account "gw-owner" already exists',
    })
    await refused(await api('POST', '/accounts', { username: 'mallory', password: PASSWORD, clientIds: ['gw-17'] }), 409, {
      error: 'conflict',
      error_description: 'client id "gw-17" belongs to account "gw-owner"; pick another, or take it from gw-owner first (users set gw-owner --client-id ...)',
    })
  })
})

describe('GET /admin/accounts', () => {
  it('lists the accounts and shows one, without password hashes', async () => {
    const list = await ok<Array<Record<string, unknown>>>(await api('GET', '/accounts'))
    expect(list.map((a) => a.username).sort()).toEqual(['gw-owner', 'kiosk'])
    expect(JSON.stringify(list)).not.toMatch(/scrypt|password/i)
    expect(await ok(await api('GET', '/accounts/gw-owner'))).toEqual(account({ username: 'gw-owner', clientIds: ['gw-17', 'gw-18'], groups: ['ops'] }))
    await refused(await api('GET', '/accounts/nobody'), 404, { error: 'not_found', error_description: 'no account "nobody"' })
  })

  it('asks for the admin token like the rest of the admin API', async () => {
    await refused(await fetch(`${t.issuer}/admin/accounts`), 401, {
      error: 'invalid_token',
      error_description: 'an access token with scope mqtt-oidc:admin is required',
    })
  })
})

describe('PATCH /admin/accounts/:username', () => {
  it('replaces client ids and groups and sets the client id mode, answering with the account', async () => {
    const body = await ok(await api('PATCH', '/accounts/gw-owner', { clientIds: ['gw-19', 'gw-17'], groups: ['ops', 'plant-7'], clientIdMode: 'shared' }))
    expect(body).toEqual(account({ username: 'gw-owner', clientIds: ['gw-19', 'gw-17'], groups: ['ops', 'plant-7'], clientIdMode: 'shared' }))
    expect(await ok(await api('PATCH', '/accounts/gw-owner', { groups: [] }))).toMatchObject({ groups: [], clientIds: ['gw-19', 'gw-17'] })
  })

  it('checks every field before it changes anything', async () => {
    await refused(await api('PATCH', '/accounts/gw-owner', { clientIds: ['gw-20'], groups: ['ok', 'bad\u0007'] }), 400, {
      error: 'invalid_request',
      error_description: 'group "bad\\u0007" must be 1-256 characters without control characters',
    })
    await refused(await api('PATCH', '/accounts/gw-owner', { clientIds: [] }), 400, {
      error: 'invalid_request',
      error_description: 'an account needs at least one client id',
    })
    await refused(await api('PATCH', '/accounts/gw-owner', {}), 400, {
      error: 'invalid_request',
      error_description: 'nothing to change: give clientIds, groups, clientIdMode or disabled',
    })
    await refused(await api('PATCH', '/accounts/nobody', { disabled: true }), 404, { error: 'not_found', error_description: 'no account "nobody"' })
    expect(await ok(await api('GET', '/accounts/gw-owner'))).toMatchObject({ clientIds: ['gw-19', 'gw-17'], groups: [] })
  })

  it('disables an account: sign-ins deleted, a cut-off for its tokens; enabling lets it sign in again', async () => {
    const owner = await t.store.accounts.findByUsername('gw-owner')
    const now = Math.floor(Date.now() / 1000)
    await t.store.oidc.upsert('Grant', 'grant-of-gw-owner', { accountId: owner!.id, exp: now + 3600 }, 3600)
    expect(await ok(await api('PATCH', '/accounts/gw-owner', { disabled: true }))).toMatchObject({ username: 'gw-owner', disabled: true })
    expect(await t.store.oidc.find('Grant', 'grant-of-gw-owner')).toBeUndefined()
    const cutoff = await t.store.cutoffs.get(owner!.id)
    expect(cutoff?.notBefore).toBeGreaterThan(now)
    expect(await verifyAccountPassword(t.store, 'gw-owner', PASSWORD)).toBeUndefined()

    expect(await ok(await api('PATCH', '/accounts/gw-owner', { disabled: false }))).toMatchObject({ disabled: false })
    expect(await verifyAccountPassword(t.store, 'gw-owner', PASSWORD)).toMatchObject({ username: 'gw-owner' })
  })
})

describe('PUT /admin/accounts/:username/password', () => {
  it('sets a new password (204); the old one stops working', async () => {
    const res = await api('PUT', '/accounts/gw-owner/password', { password: 'second-password-9931' })
    expect([res.status, await res.text()]).toEqual([204, ''])
    expect(await verifyAccountPassword(t.store, 'gw-owner', PASSWORD)).toBeUndefined()
    expect(await verifyAccountPassword(t.store, 'gw-owner', 'second-password-9931')).toMatchObject({ username: 'gw-owner' })
  })

  it('refuses an unacceptable password and an unknown account', async () => {
    await refused(await api('PUT', '/accounts/gw-owner/password', { password: 'short' }), 400, {
      error: 'invalid_request',
      error_description: 'password must be 8-1024 characters',
    })
    await refused(await api('PUT', '/accounts/gw-owner/password', {}), 400, { error: 'invalid_request', error_description: 'password must be a string' })
    await refused(await api('PUT', '/accounts/nobody/password', { password: 'third-password-1' }), 404, {
      error: 'not_found',
      error_description: 'no account "nobody"',
    })
  })

  it('never writes a password into a log line, while every change is audited', () => {
    const lines = logged.join('')
    for (const secret of [PASSWORD, 'second-password-9931', 'third-password-1', 'short']) expect(lines).not.toContain(secret)
    const audited = logged
      .map((l) => JSON.parse(l) as { audit?: boolean; action?: string; username?: string; refused?: string })
      .filter((l) => l.audit === true)
    expect(new Set(audited.map((l) => l.refused))).toEqual(
      new Set([undefined, 'ERR_INVALID_REQUEST', 'ERR_CONFLICT', 'ERR_CLIENT_ID_TAKEN', 'ERR_NOT_FOUND', 'ERR_UNAUTHENTICATED']),
    )
    expect(audited.filter((l) => l.refused === undefined).map((l) => `${l.action} ${l.username}`)).toEqual([
      'account created gw-owner',
      'account created kiosk',
      'account updated gw-owner',
      'account updated gw-owner',
      'account disabled gw-owner',
      'account enabled gw-owner',
      'account password set gw-owner',
    ])
  })
})

describe('GET /admin/client-id-conflicts', () => {
  it('lists client ids several accounts listed before each id had one owner', async () => {
    expect(await ok(await api('GET', '/client-id-conflicts'))).toEqual([])
  })
})

describe('/admin/keys', () => {
  it('lists the signing keys, public information only', async () => {
    const keys = await ok<Array<Record<string, unknown>>>(await api('GET', '/keys'))
    expect(keys.map((k) => k.alg).sort()).toEqual(['ES256', 'EdDSA', 'RS256'])
    for (const key of keys) expect(key).toEqual({ kid: expect.any(String), alg: key.alg, createdAt: expect.any(Number), retiredAt: null })
  })

  it('rotates: new keys published now sign after leadTime, when the current ones retire', async () => {
    const before = await ok<Array<{ kid: string }>>(await api('GET', '/keys'))
    const start = Math.floor(Date.now() / 1000)
    const rotation = await ok<{ added: string[]; retired: string[]; activatesAt: number }>(await api('POST', '/keys/rotate', { leadTime: 600 }))
    expect(rotation).toEqual({
      added: [expect.any(String), expect.any(String), expect.any(String)],
      retired: expect.any(Array),
      activatesAt: expect.any(Number),
    })
    expect(rotation.retired.sort()).toEqual(before.map((k) => k.kid).sort())
    expect(rotation.activatesAt - start).toBeGreaterThanOrEqual(600)
    expect(rotation.activatesAt - start).toBeLessThanOrEqual(602)
    const after = await ok<Array<{ kid: string; createdAt: number; retiredAt: number | null }>>(await api('GET', '/keys'))
    expect(after.filter((k) => rotation.retired.includes(k.kid)).map((k) => k.retiredAt)).toEqual(Array(3).fill(rotation.activatesAt))
    expect(after.filter((k) => rotation.added.includes(k.kid)).map((k) => [k.createdAt, k.retiredAt])).toEqual(Array(3).fill([rotation.activatesAt, null]))
  })

  it('refuses a lead that is not a whole number of seconds from 0 to a year', async () => {
    await refused(await api('POST', '/keys/rotate', { leadTime: -1 }), 400, {
      error: 'invalid_request',
      error_description: 'leadTime must be 0 or more seconds',
    })
    await refused(await api('POST', '/keys/rotate', { leadTime: '10m' }), 400, {
      error: 'invalid_request',
      error_description: 'leadTime must be a number of seconds',
    })
  })
})
