import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createSqliteStore } from '@mqtt-oidc/store'
import type { SigningKeyRecord, Store } from '@mqtt-oidc/core'
import { createKeyUsage } from '../src/lib/key-usage.js'

const HOUR = 3600
const now = Math.floor(Date.now() / 1000)
const key: SigningKeyRecord = { kid: 'k1', alg: 'EdDSA', owner: 'exchange', privateJwk: { kty: 'OKP' }, createdAt: now, retiredAt: null }
let store: Store

beforeEach(async () => {
  store = createSqliteStore(':memory:')
  await store.keys.add(key)
})
afterEach(async () => {
  await store.close()
})

describe('key usage (how long a retired key stays in the JWKS)', () => {
  it('remembers the latest expiry, rounded up to the hour, when two instances record tokens of one key at once', async () => {
    const [a, b] = [createKeyUsage(store), createKeyUsage(store)]
    await Promise.all([a.note('k1', now + 10 * HOUR), b.note('k1', now + HOUR)])
    expect(await createKeyUsage(store).lastExpiry(key)).toBe(Math.ceil((now + 10 * HOUR) / HOUR) * HOUR)
  })

  it('says nothing was recorded for a key that signed nothing here, and never once a token without expiry was signed', async () => {
    const usage = createKeyUsage(store)
    expect(await usage.lastExpiry(key)).toBeUndefined()
    await usage.note('k1', now + 60)
    await usage.note('k1', null)
    await usage.note('k1', now + 2 * HOUR)
    expect(await createKeyUsage(store).lastExpiry(key)).toBeNull()
  })
})
