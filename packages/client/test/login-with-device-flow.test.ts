import { decodeJwt } from 'jose'
import type { Configuration } from 'openid-client'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { discoverIssuer } from '../src/discover-issuer.js'
import { loginWithDeviceFlow } from '../src/login-with-device-flow.js'
import type { DevicePrompt } from '../src/login-with-device-flow.js'
import { startMiniOidc } from '@mqtt-oidc/test-support/mini-oidc'
import type { MiniOidc } from '@mqtt-oidc/test-support/mini-oidc'

let idp: MiniOidc
let config: Configuration
beforeAll(async () => {
  idp = await startMiniOidc()
  config = await discoverIssuer(idp.issuer, idp.clientId)
})
afterAll(async () => idp.close())
afterEach(() => {
  vi.useRealTimers()
})

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
    await expect(loginWithDeviceFlow(config, { onPrompt: (p) => idp.decide(p.userCode, false) })).rejects.toMatchObject({ error: 'access_denied' })
  })

  it('stops polling when the signal aborts', async () => {
    const abort = new AbortController()
    const reason = new Error('cancelled by the test')
    await expect(
      loginWithDeviceFlow(config, {
        signal: abort.signal,
        onPrompt: () => {
          setTimeout(() => abort.abort(reason), 100)
        },
      }),
    ).rejects.toBe(reason)
  })

  it('honours slow_down: after it, the next poll waits the interval plus 5 seconds', async () => {
    // Only setTimeout is faked (openid-client waits with it); HTTP runs for real.
    // Fake time moves only while the client sits in a wait, so what is counted
    // is exactly how long it waited between the two polls.
    vi.useFakeTimers({ toFake: ['setTimeout'] })
    idp.slowDown(1)
    let userCode = ''
    const login = loginWithDeviceFlow(config, {
      onPrompt: (p) => {
        userCode = p.userCode
      },
    })
    const polls = (): number => idp.hitCount('grant:device_code')
    const before = polls()
    const runUntil = async (done: () => boolean): Promise<number> => {
      let waited = 0
      while (!done()) {
        if (vi.getTimerCount() > 0) {
          await vi.advanceTimersByTimeAsync(50)
          waited += 50
        }
        await new Promise((resolve) => setImmediate(resolve))
      }
      return waited
    }
    await runUntil(() => polls() === before + 1) // the first poll: answered slow_down
    const waited = await runUntil(() => polls() === before + 2)
    expect(waited).toBeGreaterThanOrEqual(5_000) // interval 0.05 s + 5 s
    expect(waited).toBeLessThan(5_000 + 500)
    idp.decide(userCode, true)
    await runUntil(() => polls() === before + 3)
    vi.useRealTimers()
    await expect(login).resolves.toMatchObject({ idToken: expect.any(String) })
  })
})
