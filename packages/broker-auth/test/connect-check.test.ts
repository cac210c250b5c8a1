import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { RevocationsUnavailable } from '@mqtt-oidc/core'
import { createVerifier } from '../src/index.js'
import type { Verifier } from '../src/index.js'
import { createConnectCheck } from '../src/lib/connect-check.js'
import { startFakeExchange } from '@mqtt-oidc/test-support/fake-exchange'
import type { FakeExchange } from '@mqtt-oidc/test-support/fake-exchange'
import { createTokenKit, nowSeconds } from '@mqtt-oidc/test-support/token-kit'
import type { TokenKit } from '@mqtt-oidc/test-support/token-kit'

let exchange: FakeExchange
let kit: TokenKit
let verifier: Verifier

/** The refusal code of a decision, thrown at once or rejected, or 'accepted'. */
async function codeOf(decide: () => unknown): Promise<unknown> {
  try {
    await decide()
    return 'accepted'
  } catch (err) {
    return (err as { code?: string }).code
  }
}

beforeAll(async () => {
  exchange = await startFakeExchange({ broker: 'demo' })
  kit = await createTokenKit({ issuer: exchange.url, audience: 'demo' })
  exchange.jwks = { keys: [kit.publicJwk] }
  verifier = createVerifier({ issuer: exchange.url, audience: 'demo', jwksUri: exchange.jwksUri, clockTolerance: 30 })
})
afterAll(() => exchange.close())

describe('createConnectCheck (the CONNECT decision of the aedes and EMQX hooks)', () => {
  it('answers at once while the verifier holds the keys, and with a promise only when it must fetch them', async () => {
    const fresh = createVerifier({ issuer: exchange.url, audience: 'demo', jwksUri: exchange.jwksUri, clockTolerance: 30 })
    const check = createConnectCheck({ verifier: fresh })
    const first = check({ password: await kit.sign({ sub: 'c1' }) })
    expect(first).toBeInstanceOf(Promise)
    expect((await first).clientId).toBe('c1')
    const second = check({ password: await kit.sign({ sub: 'c2' }) })
    expect(second).not.toBeInstanceOf(Promise)
    expect((second as Awaited<typeof second>).clientId).toBe('c2')
    // a refusal that needs no key is thrown at once too
    expect(() => check({ password: 'garbage' })).toThrow(expect.objectContaining({ code: 'ERR_TOKEN_MALFORMED' }))
    fresh.close()
  })

  it('accepts a good token and resolves with the session facts', async () => {
    const check = createConnectCheck({ verifier })
    const auth = await check({ clientId: 'c1', password: await kit.sign({ sub: 'c1', jti: 'j-ok' }) })
    expect({ clientId: auth.clientId, jti: auth.claims.jti }).toEqual({ clientId: 'c1', jti: 'j-ok' })
  })

  it('refuses a jti revoked after the verifier looked (ERR_TOKEN_REVOKED)', async () => {
    const revoked = new Set<string>()
    const check = createConnectCheck({ verifier, revocations: { has: (jti) => revoked.has(jti) } })
    const password = await kit.sign({ sub: 'c1', jti: 'j-late' })
    // the verifier's own revocation check sees nothing; the second look does
    revoked.add('j-late')
    expect(await codeOf(() => check({ password }))).toBe('ERR_TOKEN_REVOKED')
  })

  it('refuses a token that expired within the verifier leeway (ERR_TOKEN_EXPIRED)', async () => {
    const check = createConnectCheck({ verifier })
    const password = await kit.sign({ exp: nowSeconds() - 10 })
    expect(await codeOf(() => check({ password }))).toBe('ERR_TOKEN_EXPIRED')
  })

  it('asks the feed policy only for an otherwise good token', async () => {
    let asked = 0
    const feedGuard = {
      check: () => {
        asked++
        throw new RevocationsUnavailable('feed down')
      },
    }
    const check = createConnectCheck({ verifier, feedGuard })
    expect(await codeOf(() => check({ password: 'garbage' }))).toBe('ERR_TOKEN_MALFORMED')
    expect(asked).toBe(0)
    const password = await kit.sign()
    expect(await codeOf(() => check({ password }))).toBe('ERR_REVOCATIONS_UNAVAILABLE')
    expect(asked).toBe(1)
  })
})
