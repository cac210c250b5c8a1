import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { calculateJwkThumbprint } from 'jose'
import type { JWK } from 'jose'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createSqliteStore } from '@mqtt-oidc/store'
import type { Store } from '@mqtt-oidc/core'
import {
  DEFAULT_JWKS_COOLDOWN_MS,
  DEFAULT_JWKS_REFRESH_MS,
  DEFAULT_KEY_LEAD_SECONDS,
  DEFAULT_KEY_RELOAD_SECONDS,
  MIN_SAFE_KEY_LEAD_SECONDS,
  createKeySet,
  createLocalJwks,
  generateSigningKey,
  rotateKeys,
  signJwt,
  verifyJwt,
} from '../src/index.js'
import type { KeySetOptions, KeySetView } from '../src/index.js'

// The key lifecycle the IdP and the exchange share, on a real SQLite store:
// publish → sign after the lead → retire → leave the JWKS once the last token it signed expired.

let dir: string
let store: Store
let clock: number

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'mqtt-oidc-jose-keys-'))
  store = createSqliteStore(join(dir, 'keys.sqlite'))
  clock = 1_800_000_000
})
afterEach(async () => {
  await store.close()
  rmSync(dir, { recursive: true, force: true })
})

const keySet = (options: Partial<KeySetOptions<'idp' | 'exchange'>> = {}) =>
  createKeySet({ store: store.keys, owner: 'exchange', algorithms: ['EdDSA'], retainSeconds: 3600, now: () => clock, ...options })
const kids = (v: KeySetView) => ({ signing: v.signing.map((r) => r.kid), verifyOnly: v.verifyOnly.map((r) => r.kid) })

describe('createKeySet', () => {
  it('generates a key per algorithm once; a second start on the same store signs with the same kids', async () => {
    const first = await keySet({ algorithms: ['RS256', 'ES256', 'EdDSA'] })
    await first.ensure()
    const jwks = await first.jwks()
    expect(jwks.keys.map((k) => k.alg)).toEqual(['RS256', 'ES256', 'EdDSA'])
    const second = await keySet({ algorithms: ['RS256', 'ES256', 'EdDSA'] })
    await second.ensure()
    expect(await second.jwks()).toEqual(jwks)
    expect(await store.keys.list('exchange')).toHaveLength(3)
  })

  it('instances that loaded an empty store together generate one key per algorithm under `exclusive`, and all sign with it', async () => {
    const exclusive = <T>(fn: () => Promise<T>): Promise<T> => store.withLock('keys', fn)
    // Both loaded before either generated: each alone would think it is the first.
    const [first, second] = await Promise.all([1, 2].map(() => keySet({ algorithms: ['ES256', 'EdDSA'], exclusive })))
    await Promise.all([first!.ensure(), second!.ensure()])
    expect(await store.keys.list('exchange')).toHaveLength(2)
    for (const alg of ['ES256', 'EdDSA'] as const) expect((await first!.signer(alg)).kid).toBe((await second!.signer(alg)).kid)
    expect(await first!.jwks()).toEqual(await second!.jwks())
  })

  it('signer() under `exclusive` takes the key another instance generated since its last load', async () => {
    const exclusive = <T>(fn: () => Promise<T>): Promise<T> => store.withLock('keys', fn)
    const [first, second] = await Promise.all([1, 2].map(() => keySet({ exclusive })))
    const [a, b] = await Promise.all([first!.signer('EdDSA'), second!.signer('EdDSA')])
    expect(await store.keys.list('exchange')).toHaveLength(1)
    expect(a.kid).toBe(b.kid)
  })

  it('publishes public members only, kid alg and use; never an HMAC secret', async () => {
    const keys = await keySet({ algorithms: ['EdDSA', 'ES256', 'RS256'] })
    await keys.ensure()
    await store.keys.add({ kid: 'hs256.b.1', alg: 'HS256', owner: 'exchange', privateJwk: { kty: 'oct', k: 'c2VjcmV0' }, createdAt: clock, retiredAt: null })
    await keys.reload()
    const { keys: published } = await keys.jwks()
    expect(published.map((k) => Object.keys(k).sort())).toEqual([
      ['alg', 'crv', 'kid', 'kty', 'use', 'x'],
      ['alg', 'crv', 'kid', 'kty', 'use', 'x', 'y'],
      ['alg', 'e', 'kid', 'kty', 'n', 'use'],
    ])
    expect((await keys.current('HS256', 'hs256.b.'))?.kid).toBe('hs256.b.1')
  })

  it('rotation: the new key is published at once and signs after the lead; the old one signs until then', async () => {
    const keys = await keySet()
    await keys.ensure()
    const old = (await keys.signer('EdDSA')).kid
    const {
      added: [next],
      retired,
      activatesAt,
    } = await keys.rotate(['EdDSA'], 600)
    expect([retired, activatesAt]).toEqual([[old], clock + 600])
    expect(kids(await keys.view())).toEqual({ signing: [old], verifyOnly: [next] })
    clock += 599
    expect((await keys.signer('EdDSA')).kid).toBe(old)
    clock += 1
    expect((await keys.signer('EdDSA')).kid).toBe(next)
    expect(kids(await keys.view())).toEqual({ signing: [next], verifyOnly: [old] })
  })

  it('a retired key stays published until the last token it signed expired, by retainedUntil or else retainSeconds', async () => {
    const lastExp = new Map<string, number | null>()
    const keys = await keySet({ retainSeconds: 3600, retainedUntil: async (r) => lastExp.get(r.kid) })
    await keys.ensure()
    const old = (await keys.signer('EdDSA')).kid
    await keys.rotate(['EdDSA'], 0)
    clock += 3599
    expect(kids(await keys.view()).verifyOnly).toEqual([old])
    clock += 1
    expect(kids(await keys.view()).verifyOnly).toEqual([])
    lastExp.set(old, clock + 7200)
    await keys.reload()
    expect(kids(await keys.view()).verifyOnly).toEqual([old])
    lastExp.set(old, null)
    clock += 10 * 365 * 86400
    await keys.reload()
    expect(kids(await keys.view()).verifyOnly).toEqual([old])
  })

  it('a key from an earlier rotation that has not started signing never will', async () => {
    const keys = await keySet()
    await keys.ensure()
    const current = (await keys.signer('EdDSA')).kid
    const {
      added: [pending],
    } = await keys.rotate(['EdDSA'], 3600)
    const {
      added: [next],
      retired,
    } = await keys.rotate(['EdDSA'], 600)
    expect(retired).toEqual([current])
    clock += 3600
    expect((await keys.signer('EdDSA')).kid).toBe(next)
    expect((await store.keys.list('exchange')).find((r) => r.kid === pending)?.retiredAt).toBe(clock - 3600)
  })

  it('signs tokens that verify against its own JWKS', async () => {
    const keys = await keySet({ algorithms: ['EdDSA', 'ES256', 'RS256'] })
    await keys.ensure()
    for (const alg of ['EdDSA', 'ES256', 'RS256'] as const) {
      const token = signJwt({}, { iss: 'i', aud: 'a', iat: clock, exp: clock + 60 }, await keys.signer(alg))
      await expect(verifyJwt(token, createLocalJwks(await keys.jwks()), { algorithms: [alg], issuer: 'i', audience: 'a', now: clock })).resolves.toBeDefined()
    }
  })

  it("watch: another process's rotation is seen at the next look, and only changes are reported", async () => {
    const keys = await keySet()
    await keys.ensure()
    const views: KeySetView[] = []
    const waiting: Array<() => void> = []
    const reported = (n: number): Promise<void> => new Promise((resolve) => (views.length >= n ? resolve() : waiting.push(resolve)))
    const watch = keys.watch({
      everySeconds: 0.02,
      onChange: (v) => {
        views.push(v)
        waiting.splice(0).forEach((wake) => wake())
      },
      onError: (err) => {
        throw err
      },
    })
    try {
      await reported(1)
      const {
        added: [next],
      } = await rotateKeys(store.keys, { owner: 'exchange', algorithms: ['EdDSA'], leadSeconds: 600, now: clock })
      await reported(2)
      expect(kids(views[1]!).verifyOnly).toEqual([next])
      const {
        added: [third],
      } = await rotateKeys(store.keys, { owner: 'exchange', algorithms: ['EdDSA'], leadSeconds: 600, now: clock })
      await reported(3)
      // the looks in between saw no change and reported none
      expect(views.map((v) => new Set(kids(v).verifyOnly))).toEqual([new Set(), new Set([next]), new Set([third, next])])
    } finally {
      watch.stop()
    }
  })
})

describe('rotateKeys', () => {
  it('refuses a lead that is not whole seconds >= 0, before touching the store', async () => {
    for (const leadSeconds of [-1, 1.5, Number.NaN]) {
      await expect(rotateKeys(store.keys, { owner: 'exchange', algorithms: ['EdDSA'], leadSeconds })).rejects.toThrow(/leadSeconds/)
    }
    expect(await store.keys.list('exchange')).toEqual([])
  })

  it('defaults to one lead for every key set, longer than every reload, cooldown and JWKS cache in the system', () => {
    expect(DEFAULT_KEY_LEAD_SECONDS).toBe(600)
    expect(MIN_SAFE_KEY_LEAD_SECONDS).toBe(DEFAULT_KEY_RELOAD_SECONDS + DEFAULT_JWKS_COOLDOWN_MS / 1000)
    expect(DEFAULT_KEY_LEAD_SECONDS).toBeGreaterThan(MIN_SAFE_KEY_LEAD_SECONDS + DEFAULT_JWKS_REFRESH_MS / 1000)
  })
})

describe('generateSigningKey', () => {
  it.each(['EdDSA', 'ES256', 'RS256', 'PS256'] as const)('makes a %s key whose kid is its RFC 7638 thumbprint (the one jose computes)', async (alg) => {
    const record = await generateSigningKey(alg, { owner: 'idp', activatesAt: 5 })
    const { d: _d, p: _p, q: _q, dp: _dp, dq: _dq, qi: _qi, ...pub } = record.privateJwk
    expect(record.kid).toBe(await calculateJwkThumbprint(pub as JWK))
    expect(record).toMatchObject({ alg, owner: 'idp', createdAt: 5, retiredAt: null, privateJwk: { kid: record.kid, alg, use: 'sig', d: expect.any(String) } })
  })
})
