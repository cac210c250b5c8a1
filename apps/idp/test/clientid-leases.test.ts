import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { Account, Store } from '@mqtt-oidc/core'
import { createSqliteStore } from '@mqtt-oidc/store'
import { createAccount } from '../src/index.js'
import { createClientIdLeases } from '../src/lib/clientid-leases.js'

let dir: string
let store: Store
const now = () => Math.floor(Date.now() / 1000)

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'idp-leases-'))
  store = createSqliteStore(join(dir, 'idp.sqlite'))
})
afterEach(async () => {
  await store.close()
  rmSync(dir, { recursive: true, force: true })
})

/** A live grant of `account`, as oidc-provider stores one. */
async function grant(account: Account, id: string): Promise<string> {
  await store.oidc.upsert('Grant', id, { accountId: account.id, exp: now() + 600 }, 600)
  return id
}

describe('per-login client id leases', () => {
  it('never derive an id another account holds: the next random suffix is taken instead, and the lease is registered', async () => {
    const alice = await createAccount(store, { username: 'alice', password: 'alice-password', clientIds: ['gw'] })
    await createAccount(store, { username: 'bob', password: 'bob-password-1', clientIds: ['gw-aaaaaaaaaa'] })
    const suffixes = ['aaaaaaaaaa', 'bbbbbbbbbb']
    const leases = createClientIdLeases(store, () => suffixes.shift() ?? 'cccccccccc')
    expect(await leases.clientIdFor(alice, await grant(alice, 'g1'))).toBe('gw')
    expect(await leases.clientIdFor(alice, await grant(alice, 'g2'))).toBe('gw-bbbbbbbbbb')
    expect(await store.clientIds.holder('gw-bbbbbbbbbb', now())).toMatchObject({ owner: { kind: 'account', accountId: alice.id }, source: 'lease' })
    // The lease is alice's while its grant lives: no other account may take the id.
    await expect(createAccount(store, { username: 'carol', password: 'carol-password', clientIds: ['gw-bbbbbbbbbb'] })).rejects.toMatchObject({
      code: 'ERR_CLIENT_ID_TAKEN',
      message: 'client id "gw-bbbbbbbbbb" belongs to account "alice"; pick another, or take it from alice first (users set alice --client-id ...)',
    })
  })

  it('never derive an id a subject of another issuer claimed at the exchange', async () => {
    const alice = await createAccount(store, { username: 'alice', password: 'alice-password', clientIds: ['gw'] })
    await store.clientIds.claim(
      'gw-aaaaaaaaaa',
      { kind: 'subject', issuer: 'https://other.example', subject: 's1' },
      { source: 'exchange', expiresAt: null, now: now() },
    )
    const suffixes = ['aaaaaaaaaa', 'bbbbbbbbbb']
    const leases = createClientIdLeases(store, () => suffixes.shift() ?? 'cccccccccc')
    await leases.clientIdFor(alice, await grant(alice, 'g1'))
    expect(await leases.clientIdFor(alice, await grant(alice, 'g2'))).toBe('gw-bbbbbbbbbb')
  })

  it('release a derived id when its grant is gone', async () => {
    const alice = await createAccount(store, { username: 'alice', password: 'alice-password', clientIds: ['gw'] })
    const suffixes = ['bbbbbbbbbb', 'cccccccccc']
    const leases = createClientIdLeases(store, () => suffixes.shift() ?? 'dddddddddd')
    await leases.clientIdFor(alice, await grant(alice, 'g1'))
    expect(await leases.clientIdFor(alice, await grant(alice, 'g2'))).toBe('gw-bbbbbbbbbb')
    await store.oidc.destroy('Grant', 'g2')
    // The next sign-in finds g2 dead: its id is released, free for anyone.
    expect(await leases.clientIdFor(alice, await grant(alice, 'g3'))).toBe('gw-cccccccccc')
    expect((await store.clientIds.heldBy({ kind: 'account', accountId: alice.id }, now())).map((h) => h.clientId)).toEqual(['gw', 'gw-cccccccccc'])
    expect(await store.clientIds.holder('gw-bbbbbbbbbb', now())).toBeUndefined()
  })

  it('hand out only configured ids the account owns: an id in conflict goes to nobody', async () => {
    const alice = await createAccount(store, { username: 'alice', password: 'alice-password', clientIds: ['gw', 'gw-2'] })
    // As the migration records an id that several accounts listed.
    await store.accounts.update(alice.id, { clientIds: ['gw'] })
    const listed: Account = { ...alice, clientIds: ['gw-2', 'gw'] }
    const leases = createClientIdLeases(store, () => 'bbbbbbbbbb')
    expect(await leases.clientIdFor(listed, await grant(alice, 'g1'))).toBe('gw')
  })
})
