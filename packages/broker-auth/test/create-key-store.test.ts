import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { createKeyStore, createVerifier } from '../src/index.js'
import type { KeyStore } from '../src/index.js'
import { startFakeExchange } from '@mqtt-oidc/test-support/fake-exchange'
import type { FakeExchange } from '@mqtt-oidc/test-support/fake-exchange'
import { createTokenKit } from '@mqtt-oidc/test-support/token-kit'
import type { TokenKit } from '@mqtt-oidc/test-support/token-kit'

const BROKER = 'demo'
let exchange: FakeExchange
let kit: TokenKit
const stores: KeyStore[] = []

const codeOf = async (p: Promise<unknown>): Promise<string> => {
  try {
    await p
  } catch (err) {
    return (err as { code?: string }).code ?? `not ours: ${String(err)}`
  }
  return 'resolved'
}

/** A verifier over its own key store, on a clock the test moves (epoch ms). */
function setup(options: { cooldownMs?: number; maxStaleMs?: number; refreshIntervalMs?: number; onFetch?: (o: 'ok' | 'error') => void } = {}) {
  const clock = { ms: Date.now() }
  // the back-off retry timer runs on real time: kept minutes away, so only the test's own fetches count
  const keys = createKeyStore({
    jwksUri: exchange.jwksUri,
    now: () => clock.ms,
    cooldownMs: 1000,
    maxStaleMs: 60_000,
    backoffMs: 600_000,
    maxBackoffMs: 600_000,
    ...options,
  })
  stores.push(keys)
  const verifier = createVerifier({ issuer: exchange.url, audience: BROKER, jwksUri: exchange.jwksUri, keys, cacheSize: 0 })
  return { clock, keys, verifier }
}

beforeAll(async () => {
  exchange = await startFakeExchange({ broker: BROKER })
  kit = await createTokenKit({ issuer: exchange.url, audience: BROKER })
  exchange.jwks = { keys: [kit.publicJwk] }
})
afterEach(() => {
  exchange.jwks = { keys: [kit.publicJwk] }
  exchange.jwksFailure = undefined
  exchange.jwksRaw = undefined
  for (const s of stores.splice(0)) s.close()
})
afterAll(() => exchange.close())

describe('createKeyStore: JWKS endpoint down', () => {
  it('keeps verifying with the last good keys for maxStaleMs, then refuses every token', async () => {
    const { clock, keys, verifier } = setup({ maxStaleMs: 60_000 })
    await expect(verifier.verify(await kit.sign({ sub: 'a' }))).resolves.toMatchObject({ sub: 'a' })
    exchange.jwksFailure = 503
    clock.ms += 30_000
    expect(await keys.refresh()).toBe(false)
    expect(keys.state()).toMatchObject({ keys: 1, failing: true })
    await expect(verifier.verify(await kit.sign({ sub: 'b' }))).resolves.toMatchObject({ sub: 'b' })
    clock.ms += 31_000
    expect(await codeOf(verifier.verify(await kit.sign({ sub: 'c' })))).toBe('ERR_KEYS_UNAVAILABLE')
    exchange.jwksFailure = undefined
    expect(await keys.refresh()).toBe(true)
    await expect(verifier.verify(await kit.sign({ sub: 'd' }))).resolves.toMatchObject({ sub: 'd' })
  })

  it('fails closed for a new kid while the endpoint is down (after the cooldown, and within it)', async () => {
    const { clock, verifier } = setup({ cooldownMs: 1000 })
    await verifier.verify(await kit.sign())
    exchange.jwksFailure = 503
    const rotated = await createTokenKit({ issuer: exchange.url, audience: BROKER })
    clock.ms += 2000
    expect(await codeOf(verifier.verify(await rotated.sign()))).toBe('ERR_KEYS_UNAVAILABLE')
    const hits = exchange.jwksHits
    expect(await codeOf(verifier.verify(await rotated.sign()))).toBe('ERR_KEYS_UNAVAILABLE')
    expect(exchange.jwksHits).toBe(hits)
    await expect(verifier.verify(await kit.sign({ sub: 'old-key' }))).resolves.toMatchObject({ sub: 'old-key' })
  })

  it('refuses with KeysUnavailable when the endpoint has never answered, fetching at most once per cooldown', async () => {
    exchange.jwksFailure = 500
    const { clock, verifier } = setup({ cooldownMs: 1000 })
    const before = exchange.jwksHits
    const codes = await Promise.all(Array.from({ length: 10 }, async () => codeOf(verifier.verify(await kit.sign()))))
    expect(new Set(codes)).toEqual(new Set(['ERR_KEYS_UNAVAILABLE']))
    expect(exchange.jwksHits - before).toBe(1)
    clock.ms += 1000
    exchange.jwksFailure = undefined
    await expect(verifier.verify(await kit.sign({ sub: 'up' }))).resolves.toMatchObject({ sub: 'up' })
  })
})

describe('createKeyStore: JWKS endpoint returns garbage', () => {
  it.each([
    ['not JSON', '<html>oops</html>'],
    ['JSON without keys', '{"error":"x"}'],
    ['an empty key set', '{"keys":[]}'],
    [
      'only unusable keys',
      JSON.stringify({
        keys: [
          { kty: 'OKP', crv: 'Ed25519', x: '!!' },
          { kty: 'oct', k: 'c2VjcmV0' },
        ],
      }),
    ],
  ])('keeps the last good keys when the body is %s', async (_name, body) => {
    const { keys, verifier } = setup()
    await verifier.verify(await kit.sign())
    exchange.jwksRaw = body
    expect(await keys.refresh()).toBe(false)
    await expect(verifier.verify(await kit.sign({ sub: 'still' }))).resolves.toMatchObject({ sub: 'still' })
  })

  it('never takes a secret or private key from the JWKS', async () => {
    const { keys } = setup()
    exchange.jwksRaw = JSON.stringify({ keys: [{ kty: 'oct', k: 'c2VjcmV0', kid: 'h' }] })
    expect(await keys.refresh()).toBe(false)
    expect(keys.state().keys).toBe(0)
  })
})

describe('createKeyStore: refreshing an unchanged JWKS', () => {
  it('revalidates with If-None-Match: the exchange answers 304, the keys stay and count as freshly fetched', async () => {
    const { clock, keys, verifier } = setup({ maxStaleMs: 60_000 })
    await expect(verifier.verify(await kit.sign({ sub: 'a' }))).resolves.toMatchObject({ sub: 'a' })
    const before = exchange.jwksNotModified
    clock.ms += 50_000
    expect(await keys.refresh()).toBe(true)
    expect(exchange.jwksNotModified - before).toBe(1)
    expect(keys.state()).toMatchObject({ keys: 1, failing: false, lastSuccessAt: clock.ms })
    // past maxStaleMs since the last full body, but not since the last revalidation: still fresh
    clock.ms += 50_000
    await expect(verifier.verify(await kit.sign({ sub: 'b' }))).resolves.toMatchObject({ sub: 'b' })
    // a changed JWKS is fetched whole
    const rotated = await createTokenKit({ issuer: exchange.url, audience: BROKER })
    exchange.jwks = { keys: [rotated.publicJwk] }
    expect(await keys.refresh()).toBe(true)
    expect(exchange.jwksNotModified - before).toBe(1)
    await expect(verifier.verify(await rotated.sign({ sub: 'c' }))).resolves.toMatchObject({ sub: 'c' })
    expect(await codeOf(verifier.verify(await kit.sign({ sub: 'd' })))).toBe('ERR_TOKEN_SIGNATURE')
  })
})

describe('createKeyStore: unknown kids and rotation', () => {
  it('a flood of junk kids after the cooldown causes exactly one fetch', async () => {
    const { clock, verifier } = setup({ cooldownMs: 1000 })
    await verifier.verify(await kit.sign())
    clock.ms += 1000
    const before = exchange.jwksHits
    const junk = await Promise.all(Array.from({ length: 50 }, (_, i) => kit.sign({}, { kid: `junk-${i}` })))
    const codes = await Promise.all(junk.map((t) => codeOf(verifier.verify(t))))
    expect(new Set(codes)).toEqual(new Set(['ERR_TOKEN_SIGNATURE']))
    expect(exchange.jwksHits - before).toBe(1)
  })

  it('refreshes on its timer: a rotated-in key works and a removed key stops verifying (also from the cache)', async () => {
    const rotated = await createTokenKit({ issuer: exchange.url, audience: BROKER })
    let resolveFetch: () => void = () => {}
    const keys = createKeyStore({ jwksUri: exchange.jwksUri, refreshIntervalMs: 20, cooldownMs: 60_000, onFetch: () => resolveFetch() })
    stores.push(keys)
    const verifier = createVerifier({ issuer: exchange.url, audience: BROKER, jwksUri: exchange.jwksUri, keys })
    const oldToken = await kit.sign({ sub: 'old' })
    await verifier.verify(oldToken)
    exchange.jwks = { keys: [rotated.publicJwk] }
    await new Promise<void>((resolve) => (resolveFetch = resolve))
    await expect(verifier.verify(await rotated.sign({ sub: 'new' }))).resolves.toMatchObject({ sub: 'new' })
    expect(await codeOf(verifier.verify(oldToken))).toBe('ERR_TOKEN_SIGNATURE')
  })
})
