import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { REFUSALS } from '@mqtt-oidc/core'
import { authorizeConnect, createVerifier } from '../src/index.js'
import type { Verifier } from '../src/index.js'
import { startFakeExchange } from '@mqtt-oidc/test-support/fake-exchange'
import type { FakeExchange } from '@mqtt-oidc/test-support/fake-exchange'
import { createTokenKit } from '@mqtt-oidc/test-support/token-kit'
import type { TokenKit } from '@mqtt-oidc/test-support/token-kit'

let exchange: FakeExchange
let kit: TokenKit
let verifier: Verifier

const refusal = async (p: Promise<unknown>): Promise<{ code: string; connack: number }> => {
  try {
    await p
  } catch (err) {
    const code = (err as { code: keyof typeof REFUSALS }).code
    return { code, connack: REFUSALS[code].connack }
  }
  throw new Error('expected a refusal')
}

beforeAll(async () => {
  exchange = await startFakeExchange({ broker: 'demo' })
  kit = await createTokenKit({ issuer: exchange.url, audience: 'demo' })
  exchange.jwks = { keys: [kit.publicJwk] }
  verifier = createVerifier({ issuer: exchange.url, audience: 'demo', jwksUri: exchange.jwksUri })
})
afterAll(() => exchange.close())

describe('authorizeConnect (MQTT CONNECT credentials)', () => {
  it('accepts client id = sub and returns the claims and ACL', async () => {
    const token = await kit.sign({ sub: 'c1' })
    const auth = await authorizeConnect(verifier, { clientId: 'c1', password: Buffer.from(token) })
    expect(auth.clientId).toBe('c1')
    expect(auth.acl).toEqual({ pub: ['devices/${clientid}/#'], sub: ['devices/${clientid}/#'] })
    expect(auth.claims.sub).toBe('c1')
  })

  it('uses sub as the client id when CONNECT sends an empty one', async () => {
    const token = await kit.sign({ sub: 'c7' })
    await expect(authorizeConnect(verifier, { clientId: '', password: token })).resolves.toMatchObject({ clientId: 'c7' })
    await expect(authorizeConnect(verifier, { password: token })).resolves.toMatchObject({ clientId: 'c7' })
  })

  it('refuses a client id that is not sub with CONNACK 5', async () => {
    const token = await kit.sign({ sub: 'c1' })
    expect(await refusal(authorizeConnect(verifier, { clientId: 'c2', password: token }))).toEqual({ code: 'ERR_CLIENT_ID_MISMATCH', connack: 5 })
  })

  it('accepts a username equal to the username claim or to sub, refuses any other with CONNACK 5', async () => {
    const token = await kit.sign({ sub: 'c1', username: 'alice' })
    await expect(authorizeConnect(verifier, { clientId: 'c1', username: 'alice', password: token })).resolves.toBeDefined()
    await expect(authorizeConnect(verifier, { clientId: 'c1', username: 'c1', password: token })).resolves.toBeDefined()
    expect(await refusal(authorizeConnect(verifier, { clientId: 'c1', username: 'bob', password: token }))).toEqual({
      code: 'ERR_USERNAME_MISMATCH',
      connack: 5,
    })
  })

  it('refuses a valid token whose client id breaks the identifier rule with CONNACK 2, with or without a CONNECT client id', async () => {
    for (const sub of ['$SYS', 'a/+/#', 'c 1']) {
      const token = await kit.sign({ sub })
      expect(await refusal(authorizeConnect(verifier, { clientId: sub, password: token }))).toEqual({ code: 'ERR_CLIENT_ID_INVALID', connack: 2 })
      expect(await refusal(authorizeConnect(verifier, { clientId: '', password: token }))).toEqual({ code: 'ERR_CLIENT_ID_INVALID', connack: 2 })
    }
  })

  it('refuses a CONNECT username that breaks the identifier rule with CONNACK 4, even when the token names it', async () => {
    const token = await kit.sign({ sub: 'c1', username: 'ops/#' })
    expect(await refusal(authorizeConnect(verifier, { clientId: 'c1', username: 'ops/#', password: token }))).toEqual({
      code: 'ERR_USERNAME_INVALID',
      connack: 4,
    })
  })

  it('refuses a missing or empty password with CONNACK 4', async () => {
    expect(await refusal(authorizeConnect(verifier, { clientId: 'c1' }))).toEqual({ code: 'ERR_TOKEN_MISSING', connack: 4 })
    expect(await refusal(authorizeConnect(verifier, { clientId: 'c1', password: Buffer.alloc(0) }))).toEqual({ code: 'ERR_TOKEN_MISSING', connack: 4 })
  })

  it('checks the token before the client id (a forged token never learns about ids)', async () => {
    expect(await refusal(authorizeConnect(verifier, { clientId: 'zz', password: 'garbage' }))).toEqual({ code: 'ERR_TOKEN_MALFORMED', connack: 4 })
  })

  it('refuses a token for another broker with CONNACK 5', async () => {
    const token = await kit.sign({ aud: 'other' })
    expect(await refusal(authorizeConnect(verifier, { clientId: 'c1', password: token }))).toEqual({ code: 'ERR_TOKEN_AUDIENCE', connack: 5 })
  })
})
