import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { InvalidRequest, type Store } from '@mqtt-oidc/core'
import { createSqliteStore } from '@mqtt-oidc/store'
import {
  createAccount, ensureDemoAccount, loadOrCreateAdminClient, loadOrCreateCookieKeys, verifyAccountPassword, checkAccountPassword,
} from '../src/index.js'

let dir: string
let store: Store

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'idp-accounts-'))
  store = createSqliteStore(join(dir, 'idp.sqlite'))
})

afterAll(async () => {
  await store?.close()
  rmSync(dir, { recursive: true, force: true })
})

const mode = (path: string) => statSync(path).mode & 0o777

describe('createAccount / verifyAccountPassword', () => {
  it('stores an scrypt hash in the documented format and verifies the password', async () => {
    const account = await createAccount(store, { username: 'carol', password: 'carol-password', clientIds: ['carol-1'], groups: ['ops'] })
    expect(account).toMatchObject({ username: 'carol', clientIds: ['carol-1'], groups: ['ops'], disabled: false })
    expect(account.id).toMatch(/^[0-9A-HJKMNP-TV-Z]{26}$/)
    expect(account.passwordHash).toMatch(/^scrypt\$32768\$8\$1\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}$/)
    expect(await store.accounts.findByUsername('carol')).toEqual(account)
    expect((await verifyAccountPassword(store, 'carol', 'carol-password'))?.id).toBe(account.id)
  })

  it('gives an account without client ids one generated client id', async () => {
    const account = await createAccount(store, { username: 'dave', password: 'dave-password' })
    expect(account.clientIds).toEqual([expect.stringMatching(/^[0-9A-HJKMNP-TV-Z]{26}$/)])
  })

  it('refuses a wrong password, an unknown user and a disabled account alike', async () => {
    const erin = await createAccount(store, { username: 'erin', password: 'erin-password' })
    expect(await verifyAccountPassword(store, 'erin', 'wrong-password')).toBeUndefined()
    expect(await verifyAccountPassword(store, 'nobody', 'erin-password')).toBeUndefined()
    await store.accounts.update(erin.id, { disabled: true })
    expect(await verifyAccountPassword(store, 'erin', 'erin-password')).toBeUndefined()
  })

  it('tells a disabled account apart only given its right password', async () => {
    const fay = await createAccount(store, { username: 'fay', password: 'fay-password' })
    await store.accounts.update(fay.id, { disabled: true })
    expect(await checkAccountPassword(store, 'fay', 'wrong-password')).toEqual({ outcome: 'wrong' })
    expect(await checkAccountPassword(store, 'nobody', 'fay-password')).toEqual({ outcome: 'wrong' })
    expect(await checkAccountPassword(store, 'fay', 'fay-password')).toMatchObject({ outcome: 'disabled', account: { id: fay.id } })
    await store.accounts.update(fay.id, { disabled: false })
    expect(await checkAccountPassword(store, 'fay', 'fay-password')).toMatchObject({ outcome: 'ok', account: { id: fay.id } })
  })

  it('refuses bad input, listing every problem', async () => {
    const err = await createAccount(store, { username: 'no spaces', password: 'short', clientIds: ['a/b', 'x#'] }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(InvalidRequest)
    expect((err as InvalidRequest).message).toBe([
      'username must be 1-64 letters, digits or . _ @ -',
      'password must be 8-1024 characters',
      'client id "a/b" may not contain "/", "+" or "#"',
      'client id "x#" may not contain "/", "+" or "#"',
    ].join('; '))
  })

  it('refuses a taken username with the store\'s Conflict', async () => {
    await expect(createAccount(store, { username: 'carol', password: 'another-password' })).rejects.toMatchObject({ code: 'ERR_CONFLICT' })
  })
})

describe('ensureDemoAccount', () => {
  it('creates demo once with a random password and a demo-<base32> client id, in a 0600 file', async () => {
    const first = await ensureDemoAccount(store, dir)
    expect(first).toMatchObject({ username: 'demo', created: true, clientId: expect.stringMatching(/^demo-[a-z2-7]{8}$/) })
    expect(first.password.length).toBeGreaterThanOrEqual(20)
    const file = join(dir, 'demo-account.json')
    expect(mode(file)).toBe(0o600)
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({ username: 'demo', password: first.password, clientId: first.clientId })
    expect((await verifyAccountPassword(store, 'demo', first.password))?.clientIds).toEqual([first.clientId])

    const again = await ensureDemoAccount(store, dir)
    expect(again).toEqual({ ...first, created: false })
  })

  it('resets the password when the file was lost, keeping the client id', async () => {
    const before = await ensureDemoAccount(store, dir)
    rmSync(join(dir, 'demo-account.json'))
    const after = await ensureDemoAccount(store, dir)
    expect(after).toMatchObject({ created: true, clientId: before.clientId })
    expect(after.password).not.toBe(before.password)
    expect(await verifyAccountPassword(store, 'demo', before.password)).toBeUndefined()
    expect(await verifyAccountPassword(store, 'demo', after.password)).toBeDefined()
  })

  it('recreates the account from the file in a new store', async () => {
    const stored = await ensureDemoAccount(store, dir)
    const other = createSqliteStore(join(dir, 'other.sqlite'))
    try {
      expect(await ensureDemoAccount(other, dir)).toEqual(stored)
      expect((await verifyAccountPassword(other, 'demo', stored.password))?.clientIds).toEqual([stored.clientId])
    } finally {
      await other.close()
    }
  })
})

describe('loadOrCreateAdminClient', () => {
  it('writes a 0600 file once, keeps the secret and follows URL changes', () => {
    const sub = mkdtempSync(join(dir, 'admin-'))
    const first = loadOrCreateAdminClient(sub, { issuer: 'http://localhost:4000', exchange: 'http://localhost:4001' })
    expect(first).toEqual({ issuer: 'http://localhost:4000', exchange: 'http://localhost:4001', clientId: 'mqtt-oidc-admin', clientSecret: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/) })
    const file = join(sub, 'admin-client.json')
    expect(mode(file)).toBe(0o600)
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual(first)
    expect(loadOrCreateAdminClient(sub, { issuer: 'http://localhost:4000', exchange: 'http://localhost:4001' })).toEqual(first)

    const moved = loadOrCreateAdminClient(sub, { issuer: 'http://127.0.0.1:5000', exchange: 'http://127.0.0.1:5001' })
    expect(moved).toEqual({ ...first, issuer: 'http://127.0.0.1:5000', exchange: 'http://127.0.0.1:5001' })
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual(moved)
  })

  it('refuses a malformed file instead of replacing the secret', () => {
    const sub = mkdtempSync(join(dir, 'admin-bad-'))
    writeFileSync(join(sub, 'admin-client.json'), '{"clientId":"someone-else"}')
    expect(() => loadOrCreateAdminClient(sub, { issuer: 'http://localhost:4000', exchange: 'http://localhost:4001' })).toThrow()
  })
})

describe('loadOrCreateCookieKeys', () => {
  it('generates keys once into a 0600 file and reads them back', () => {
    const sub = mkdtempSync(join(dir, 'cookies-'))
    const keys = loadOrCreateCookieKeys(sub)
    expect(keys).toEqual([expect.stringMatching(/^[A-Za-z0-9_-]{43}$/)])
    expect(mode(join(sub, 'idp-cookie-keys.json'))).toBe(0o600)
    expect(loadOrCreateCookieKeys(sub)).toEqual(keys)
  })
})
