import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { decodeJwt } from 'jose'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTokenStore, discoverIssuer, login, tokenStoreKey } from '@mqtt-oidc/client'
import { completeDeviceLogin } from '@mqtt-oidc/test-support/idp-user-agent'
import { startTestStack, type TestStack } from './support/start-test-stack.js'

let stack: TestStack
let dir: string
beforeAll(async () => {
  stack = await startTestStack()
  dir = mkdtempSync(join(tmpdir(), 'mqtt-oidc-login-'))
  await stack.addAccount('gw-owner', 'gateway-owner-pw-1', ['gw-a', 'gw-b'])
}, 60_000)
afterAll(async () => {
  await stack?.close()
  rmSync(dir, { recursive: true, force: true })
})

describe('login() (library)', () => {
  it("runs the device flow, asks for one of the account's client ids, and saves the tokens for connect()", async () => {
    const tokenStore = createTokenStore(dir)
    const tokens = await login({
      issuer: stack.idpUrl,
      flow: 'device',
      clientid: 'gw-b',
      tokenStore,
      onPrompt: async ({ verificationUriComplete }) => {
        await completeDeviceLogin({ verificationUriComplete, username: 'gw-owner', password: 'gateway-owner-pw-1' })
      },
    })
    expect(decodeJwt(tokens.idToken)).toMatchObject({ clientid: 'gw-b', username: 'gw-owner' })
    const saved = await tokenStore.get(tokenStoreKey(await discoverIssuer(stack.idpUrl, 'mqtt-oidc-cli')))
    expect(saved?.idToken).toBe(tokens.idToken)
  })

  it('is refused for a client id the account does not hold', async () => {
    await expect(
      login({
        issuer: stack.idpUrl,
        clientid: 'not-mine',
        onPrompt: async ({ verificationUriComplete }) => {
          await completeDeviceLogin({ verificationUriComplete, username: 'gw-owner', password: 'gateway-owner-pw-1' }).catch(() => {})
        },
      }),
    ).rejects.toMatchObject({ error: 'invalid_request' })
  })

  it('says what is missing when the flow has no way to reach the person', async () => {
    await expect(login({ issuer: stack.idpUrl, flow: 'browser' })).rejects.toThrow(/onAuthorizationUrl/)
  })
})
