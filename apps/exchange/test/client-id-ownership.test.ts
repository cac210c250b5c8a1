import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { decodeJwt } from 'jose'
import { TOKEN_EXCHANGE_GRANT, TOKEN_TYPE, type Store } from '@mqtt-oidc/core'
import { createSqliteStore } from '@mqtt-oidc/store'
import { ensureBroker } from '../src/ensure-broker.js'
import { ensureFeedCredential } from '../src/ensure-feed-credential.js'
import { startExchange, type Running } from './support/harness.js'
import { now, startTestIdp, type TestIdp } from '@mqtt-oidc/test-support/test-idp'
import { until } from '@mqtt-oidc/test-support/until'

// The exchange and our IdP's accounts: `identity` plays the IdP's store
// (accounts, the client id registry, cut-offs), as `pnpm start` shares it.
let idp: TestIdp
let corp: TestIdp
let ex: Running
let identity: Store
let dir: string

beforeAll(async () => {
  ;[idp, corp] = await Promise.all([startTestIdp(), startTestIdp()])
})
afterAll(async () => {
  await Promise.all([idp.close(), corp.close()])
})
beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'exchange-owners-'))
  identity = createSqliteStore(join(dir, 'idp.sqlite'))
  await identity.accounts.create({
    id: 'demo-account',
    username: 'demo',
    passwordHash: 'h',
    clientIds: ['demo-1'],
    groups: [],
    disabled: false,
    createdAt: now(),
  })
  ex = await startExchange(idp, { identityStore: identity, trustedIssuers: [{ issuer: corp.issuer, clientIds: ['mqtt-oidc-cli'] }] })
  await ensureBroker(ex.store, { id: 'demo' })
})
afterEach(async () => {
  await ex.close()
  await identity.close()
  rmSync(dir, { recursive: true, force: true })
})

const form = (subjectToken: string): Record<string, string> => ({
  grant_type: TOKEN_EXCHANGE_GRANT,
  subject_token: subjectToken,
  subject_token_type: TOKEN_TYPE.idToken,
  audience: 'demo',
})
const corpToken = (sub: string, clientid: unknown, extra: Record<string, unknown> = {}) => corp.idToken({ iss: corp.issuer, sub, clientid, ...extra })
const demoToken = (extra: Record<string, unknown> = {}) => idp.idToken({ sub: 'demo-account', clientid: 'demo-1', username: 'demo', ...extra })

async function outcome(res: Response): Promise<{ status: number; body: Record<string, unknown> }> {
  return { status: res.status, body: (await res.json()) as Record<string, unknown> }
}
const refusedWith = (description: string) => ({ status: 400, body: { error: 'invalid_request', error_description: description } })

describe('POST /token: one owner per MQTT client id', () => {
  it('exchanges an ID token of our IdP for a client id its account owns', async () => {
    const res = await outcome(await ex.exchangeToken(form(await demoToken())))
    expect(res.status).toBe(200)
    expect(decodeJwt(res.body.access_token as string)).toMatchObject({ sub: 'demo-1', username: 'demo' })
  })

  it('refuses an ID token of another trusted issuer that claims a client id of one of our accounts', async () => {
    expect(await outcome(await ex.exchangeToken(form(await corpToken('corp-user', 'demo-1'))))).toEqual(
      refusedWith('subject_token\'s clientid "demo-1" belongs to another account'),
    )
  })

  it('gives a client id to the first subject of another issuer that uses it, and refuses it to every other subject', async () => {
    expect((await ex.exchangeToken(form(await corpToken('corp-user', 'press-42')))).status).toBe(200)
    expect(await identity.clientIds.holder('press-42', now())).toMatchObject({
      owner: { kind: 'subject', issuer: corp.issuer, subject: 'corp-user' },
      source: 'exchange',
    })
    expect((await ex.exchangeToken(form(await corpToken('corp-user', 'press-42')))).status).toBe(200)
    expect(await outcome(await ex.exchangeToken(form(await corpToken('corp-intruder', 'press-42'))))).toEqual(
      refusedWith('subject_token\'s clientid "press-42" belongs to another account'),
    )
    // ... also to an ID token of our own IdP, for an account that does not own it.
    expect(await outcome(await ex.exchangeToken(form(await demoToken({ clientid: 'press-42' }))))).toEqual(
      refusedWith('subject_token\'s clientid "press-42" belongs to another account'),
    )
  })

  it('refuses an ID token of our IdP whose client id its account no longer owns', async () => {
    await identity.accounts.update('demo-account', { clientIds: ['demo-2'] })
    expect(await outcome(await ex.exchangeToken(form(await demoToken())))).toEqual(
      refusedWith('subject_token\'s clientid "demo-1" is not one of its account\'s client ids'),
    )
  })
})

describe('POST /token: client ids and usernames that could widen an ACL', () => {
  it('refuses a client id with wildcards or level separators from any trusted issuer, naming the rule', async () => {
    expect(await outcome(await ex.exchangeToken(form(await corpToken('corp-user', 'a/+/#'))))).toEqual(
      refusedWith('subject_token\'s clientid claim: client id "a/+/#" may not contain "/", "+" or "#"'),
    )
    expect(await outcome(await ex.exchangeToken(form(await corpToken('corp-user', '$SYS'))))).toEqual(
      refusedWith('subject_token\'s clientid claim: client id "$SYS" may not start with "$"'),
    )
    expect(await outcome(await ex.exchangeToken(form(await demoToken({ clientid: 'demo-1\u0000' }))))).toEqual(
      refusedWith('subject_token\'s clientid claim: client id "demo-1\\u0000" may not contain spaces, control or invisible characters'),
    )
    expect(await identity.clientIds.holder('$SYS', now())).toBeUndefined()
  })

  it('refuses a username that could not stand as one topic level', async () => {
    expect(await outcome(await ex.exchangeToken(form(await corpToken('corp-user', 'press-1', { username: 'ops/#' }))))).toEqual(
      refusedWith('subject_token\'s username claim: username "ops/#" may not contain "/", "+" or "#"'),
    )
  })
})

describe('POST /token: a disabled account', () => {
  it('refuses its ID tokens, and after re-enabling those issued before the disable', async () => {
    const before = await demoToken({ iat: now() - 5 })
    await identity.accounts.update('demo-account', { disabled: true })
    await identity.cutoffs.set('demo-account', now() - 2)
    expect(await outcome(await ex.exchangeToken(form(before)))).toEqual({
      status: 400,
      body: { error: 'invalid_request', error_description: "subject_token's account is disabled" },
    })
    await identity.accounts.update('demo-account', { disabled: false })
    expect(await outcome(await ex.exchangeToken(form(before)))).toEqual({
      status: 400,
      body: { error: 'invalid_request', error_description: 'subject_token was issued before its account was disabled; sign in again' },
    })
    expect((await ex.exchangeToken(form(await demoToken()))).status).toBe(200)
  })
})

describe('account cut-offs at the exchange', () => {
  it('revokes the live exchanged credentials of an account whose cut-off was set while the exchange was down, before it listens', async () => {
    const jtiOf = async (res: Response) => decodeJwt(((await res.json()) as { access_token: string }).access_token).jti!
    const first = await jtiOf(await ex.exchangeToken(form(await demoToken())))
    await ex.close({ keepStore: true })
    await identity.cutoffs.set('demo-account', now() + 1)
    ex = await startExchange(idp, { dir, store: ex.store, identityStore: identity, trustedIssuers: [{ issuer: corp.issuer, clientIds: ['mqtt-oidc-cli'] }] })
    // Caught up before it listens: the feed already says so.
    expect(await ex.store.revocations.isRevoked('demo', first)).toBe(true)
    // read as the broker reads it, with its feed credential
    const file = join(dir, 'feed-credentials', 'demo')
    await ensureFeedCredential(ex.store, 'demo', file)
    const headers = { authorization: `Bearer ${readFileSync(file, 'utf8').trim()}` }
    const feed = (await (await fetch(`${ex.url}/brokers/demo/revocations`, { headers })).json()) as { revoked: Array<{ jti: string }> }
    expect(feed.revoked.map((r) => r.jti)).toContain(first)
  })

  it('follows a cut-off set while it runs', async () => {
    const res = await ex.exchangeToken(form(await demoToken()))
    const jti = decodeJwt(((await res.json()) as { access_token: string }).access_token).jti!
    await identity.cutoffs.set('demo-account', now() + 1)
    await until(() => ex.store.revocations.isRevoked('demo', jti))
  })
})

describe('POST /admin/brokers/:id/credentials: client ids an account or subject owns', () => {
  it('refuses to issue for an owned client id unless allowOwnedClientIds says so, and then audits it', async () => {
    await ex.exchangeToken(form(await corpToken('corp-user', 'press-42')))
    const refused = await ex.api('POST', '/admin/brokers/demo/credentials', { clientIds: ['backend-1', 'demo-1', 'press-42'] })
    expect(await outcome(refused)).toEqual({
      status: 409,
      body: {
        error: 'conflict',
        error_description:
          'client ids "demo-1", "press-42" belong to accounts or subjects: a credential for one takes over its owner\'s MQTT session; set allowOwnedClientIds (CLI --allow-owned-client-id) to issue anyway',
      },
    })
    expect(await identity.clientIds.holder('backend-1', now())).toBeUndefined()
    const allowed = await ex.api('POST', '/admin/brokers/demo/credentials', { clientIds: ['demo-1'], allowOwnedClientIds: true })
    expect(Object.keys((await allowed.json()) as object)).toEqual(['demo-1'])
  })

  it('refuses client ids and usernames that break the identifier rule', async () => {
    expect(await outcome(await ex.api('POST', '/admin/brokers/demo/credentials', { clientIds: ['$SYS'] }))).toEqual({
      status: 400,
      body: { error: 'invalid_request', error_description: 'clientIds.0: client id "$SYS" may not start with "$"' },
    })
    expect(await outcome(await ex.api('POST', '/admin/brokers/demo/credentials', { clientIds: ['gw'], username: 'ops+1' }))).toEqual({
      status: 400,
      body: { error: 'invalid_request', error_description: 'username "ops+1" may not contain "/", "+" or "#"' },
    })
  })
})
