import { decodeJwt } from 'jose'
import type { Configuration } from 'openid-client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { discoverIssuer } from '../src/discover-issuer.js'
import { loginWithDeviceFlow } from '../src/login-with-device-flow.js'
import type { DevicePrompt } from '../src/login-with-device-flow.js'
import { startMiniOidc } from './support/mini-oidc.js'
import type { MiniOidc } from './support/mini-oidc.js'

let idp: MiniOidc
let config: Configuration
beforeAll(async () => {
  idp = await startMiniOidc()
  config = await discoverIssuer(idp.issuer, idp.clientId)
})
afterAll(async () => idp.close())

describe('loginWithDeviceFlow (RFC 8628)', () => {
  it('prompts with the verification URL and user code, polls until approved, and returns the tokens', async () => {
    const prompts: DevicePrompt[] = []
    const tokens = await loginWithDeviceFlow(config, {
      onPrompt: (p) => {
        prompts.push(p)
        // The person approves after the CLI has polled a few times.
        setTimeout(() => idp.decide(p.userCode, true), 200)
      },
    })
    expect(prompts).toHaveLength(1)
    const [p] = prompts
    expect(p).toEqual({
      verificationUri: `${idp.issuer}/device`,
      verificationUriComplete: `${idp.issuer}/device?user_code=${p?.userCode}`,
      userCode: expect.stringMatching(/^[0-9A-F]{8}$/),
      expiresIn: 60,
    })
    expect(idp.hitCount('grant:device_code')).toBeGreaterThan(1) // authorization_pending was honoured
    expect(decodeJwt(tokens.idToken)).toMatchObject({ iss: idp.issuer, aud: 'mqtt-oidc-cli', clientid: 'gateway-1', username: 'alice' })
    expect(tokens.refreshToken).toEqual(expect.any(String))
    expect(tokens.expiresAt).toBe(decodeJwt(tokens.idToken).exp)
  })

  it('fails with the OAuth error when the person denies', async () => {
    await expect(loginWithDeviceFlow(config, { onPrompt: (p) => idp.decide(p.userCode, false) }))
      .rejects.toMatchObject({ error: 'access_denied' })
  })

  it('stops polling when the signal aborts', async () => {
    const abort = new AbortController()
    const reason = new Error('cancelled by the test')
    await expect(loginWithDeviceFlow(config, { signal: abort.signal, onPrompt: () => { setTimeout(() => abort.abort(reason), 100) } }))
      .rejects.toBe(reason)
  })
})
