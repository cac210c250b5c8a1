import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import * as oidc from 'openid-client'
import { decodeJwt } from 'jose'
import { createAccount } from '../src/index.js'
import { completeDeviceLogin, parsePage } from '@mqtt-oidc/test-support/idp-user-agent'
import { DEVICE_GRANT, deviceAuthorization, requestFrom, SCOPE, startTestIdp, tokenRequest, type TestIdp } from './support/test-idp.js'

const PENDING = {
  error: 'authorization_pending',
  error_description: "authorization request is still pending as the end-user hasn't yet completed the user interaction steps",
}
const SLOW_DOWN = { error: 'slow_down', error_description: 'you are polling too quickly and should back off at a reasonable rate' }
const DENIED = { error: 'access_denied', error_description: 'End-User aborted interaction' }
const EXPIRED = { error: 'expired_token', error_description: 'device code is expired' }
const USER_CODE = /^[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}$/
const ALICE = { username: 'alice', password: 'correct horse battery' }

let t: TestIdp
const poll = (deviceCode: string | number) => tokenRequest(t.issuer, { grant_type: DEVICE_GRANT, device_code: String(deviceCode) })

beforeAll(async () => {
  t = await startTestIdp(
    { userCodeRateLimit: { perIp: { limit: 20, windowSeconds: 600 }, global: { limit: 45, windowSeconds: 600 }, perIpUnderAttack: 3 } },
    async (store) => {
      await createAccount(store, { ...ALICE, clientIds: ['alice-gw'] })
    },
  )
})
afterAll(async () => {
  await t?.close()
})

describe('POST /device/auth (RFC 8628 §3.2)', () => {
  it('issues base-20 user codes of 12 characters shown as XXXX-XXXX-XXXX', async () => {
    const codes = await Promise.all(Array.from({ length: 5 }, () => deviceAuthorization(t.issuer)))
    for (const da of codes) expect(da.user_code).toMatch(USER_CODE)
    expect(new Set(codes.map((da) => da.user_code)).size).toBe(5)
  })
})

describe('GET/POST /device: user code entry (RFC 8628 §3.3)', () => {
  it('accepts the code in lower case and without the dash, and confirms it in its canonical form', async () => {
    const da = await deviceAuthorization(t.issuer)
    const typed = String(da.user_code).replace('-', '').toLowerCase()
    let confirmed: string | undefined
    const page = await completeDeviceLogin({
      verificationUri: String(da.verification_uri),
      userCode: typed,
      ...ALICE,
      onPage: (p) => {
        if (p.name === 'device-confirm') confirmed = /<p class="code">([^<]*)<\/p>/.exec(p.html)?.[1]
      },
    })
    expect(page.name).toBe('device-success')
    expect(confirmed).toBe(da.user_code)
    const { status, body } = await poll(da.device_code ?? '')
    expect(status).toBe(200)
    expect(decodeJwt((body as { id_token: string }).id_token)).toMatchObject({ clientid: 'alice-gw', username: 'alice' })
  })

  it('accepts verification_uri_complete, also with a code written with spaces in lower case', async () => {
    const da = await deviceAuthorization(t.issuer)
    expect(da.verification_uri_complete).toBe(`${t.issuer}/device?user_code=${String(da.user_code)}`)
    const spaced = String(da.user_code).toLowerCase().replace('-', ' ')
    const page = await completeDeviceLogin({ verificationUriComplete: `${t.issuer}/device?user_code=${encodeURIComponent(spaced)}`, ...ALICE })
    expect(page.name).toBe('device-success')
    expect((await poll(da.device_code ?? '')).status).toBe(200)
  })
})

describe('POST /token grant_type=device_code: the error matrix (RFC 8628 §3.5)', () => {
  it('answers authorization_pending, then slow_down to a device polling faster than its interval', async () => {
    const da = await deviceAuthorization(t.issuer)
    expect(await poll(da.device_code ?? '')).toEqual({ status: 400, body: PENDING })
    expect(await poll(da.device_code ?? '')).toEqual({ status: 400, body: SLOW_DOWN })
  })

  it('answers access_denied after the person cancels, and again on the next poll', async () => {
    const da = await deviceAuthorization(t.issuer)
    const page = await completeDeviceLogin({ verificationUriComplete: String(da.verification_uri_complete), approve: false, denyAt: 'device' })
    expect(page.name).toBe('device-denied')
    expect(await poll(da.device_code ?? '')).toEqual({ status: 400, body: DENIED })
  })

  it('answers expired_token once the device code has expired, and the code page says so', async () => {
    const da = await deviceAuthorization(t.issuer)
    vi.useFakeTimers({ toFake: ['Date'], now: Date.now() + (Number(da.expires_in) + 2) * 1000 })
    try {
      expect(await poll(da.device_code ?? '')).toEqual({ status: 400, body: EXPIRED })
      const err = await completeDeviceLogin({ verificationUriComplete: String(da.verification_uri_complete) }).catch((e: unknown) => e)
      expect((err as { page?: { alert?: string } }).page?.alert).toBe('That code has expired. Start again on your device.')
    } finally {
      vi.useRealTimers()
    }
  })

  it('refuses a device code that was already exchanged with invalid_grant', async () => {
    const da = await oidc.initiateDeviceAuthorization(t.config, { scope: SCOPE })
    const polling = oidc.pollDeviceAuthorizationGrant(t.config, da)
    await completeDeviceLogin({ verificationUriComplete: da.verification_uri_complete, ...ALICE })
    expect((await polling).id_token).toEqual(expect.any(String))
    expect(await poll(da.device_code)).toEqual({ status: 400, body: { error: 'invalid_grant', error_description: 'grant request is invalid' } })
  })
})

/** A browser at `ip` on the code-entry page: its cookies and the current form secret. */
async function openCodePage(ip: string): Promise<{ cookies: Map<string, string>; xsrf: string }> {
  const res = await requestFrom(ip, `${t.issuer}/device`)
  const session = { cookies: new Map<string, string>(), xsrf: '' }
  remember(session, res)
  return session
}

function remember(
  session: { cookies: Map<string, string>; xsrf: string },
  res: { headers: Record<string, string | string[] | undefined>; text: string },
): void {
  for (const line of [res.headers['set-cookie'] ?? []].flat()) {
    const [pair = ''] = line.split(';')
    const eq = pair.indexOf('=')
    session.cookies.set(pair.slice(0, eq), pair.slice(eq + 1))
  }
  const xsrf = /name="xsrf" value="([^"]+)"/.exec(res.text)?.[1]
  if (xsrf) session.xsrf = xsrf
}

async function enterCode(ip: string, session: { cookies: Map<string, string>; xsrf: string }, userCode: string) {
  const res = await requestFrom(ip, `${t.issuer}/device`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: [...session.cookies].map(([k, v]) => `${k}=${v}`).join('; ') },
    body: new URLSearchParams({ xsrf: session.xsrf, user_code: userCode }).toString(),
  })
  remember(session, res)
  return { ...res, page: parsePage(`${t.issuer}/device`, res.status, new Headers(), res.text) }
}

function wrongCode(i: number): string {
  const alphabet = 'BCDFGHJKLMNPQRSTVWXZ'
  let code = ''
  for (let n = i + 1000; code.length < 12; n = Math.floor(n / 20)) code += alphabet[n % 20]
  return `${code.slice(0, 4)}-${code.slice(4, 8)}-${code.slice(8)}`
}

describe('user code brute force (RFC 8628 §5.1)', () => {
  it('answers 429 to a client IP after its budget of wrong codes, and the real code still works for its owner', async () => {
    const da = await deviceAuthorization(t.issuer)
    const attacker = await openCodePage('127.0.0.2')
    const statuses: number[] = []
    for (let i = 0; i < 1000; i++) {
      const res = await enterCode('127.0.0.2', attacker, wrongCode(i))
      statuses.push(res.status)
      if (i === 0) expect(res.page).toMatchObject({ name: 'device-code', alert: 'That code is not valid. Check the code shown on your device.' })
      if (i === 999) {
        expect(res.headers['retry-after']).toMatch(/^\d+$/)
        expect(res.page).toMatchObject({ name: 'error' })
      }
    }
    expect(statuses.filter((s) => s === 429)).toHaveLength(980)
    expect(statuses.slice(20).every((s) => s === 429)).toBe(true)
    // Blocked is blocked: the right code from that IP gets the same 429, so it learns nothing.
    expect((await enterCode('127.0.0.2', attacker, String(da.user_code))).status).toBe(429)

    const page = await completeDeviceLogin({ verificationUriComplete: String(da.verification_uri_complete), ...ALICE })
    expect(page.name).toBe('device-success')
    expect((await poll(da.device_code ?? '')).status).toBe(200)
  })

  it('once all clients together spent the global budget, slows only addresses that entered wrong codes: a person with the right code still gets in', async () => {
    // 20 wrong codes were counted above; 25 more from two other addresses reach the global 45.
    const other = await openCodePage('127.0.0.3')
    for (let i = 0; i < 20; i++) expect((await enterCode('127.0.0.3', other, wrongCode(5000 + i))).status).not.toBe(429)
    const third = await openCodePage('127.0.0.4')
    for (let i = 0; i < 5; i++) expect((await enterCode('127.0.0.4', third, wrongCode(6000 + i))).status).not.toBe(429)
    // Under attack, an address may enter 3 wrong codes per window, not 20: .4 has entered 5.
    expect((await enterCode('127.0.0.4', third, wrongCode(6005))).status).toBe(429)
    const fresh = await openCodePage('127.0.0.5')
    for (let i = 0; i < 3; i++) expect((await enterCode('127.0.0.5', fresh, wrongCode(7000 + i))).status).toBe(200)
    expect((await enterCode('127.0.0.5', fresh, wrongCode(7003))).status).toBe(429)

    // The real user, at an address with no wrong codes: signs the device in.
    const da = await deviceAuthorization(t.issuer)
    const page = await completeDeviceLogin({ verificationUriComplete: String(da.verification_uri_complete), ...ALICE })
    expect(page.name).toBe('device-success')
    expect((await poll(da.device_code ?? '')).status).toBe(200)
  })
})
