import { Writable } from 'node:stream'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { pino } from 'pino'
import { parsePage } from '@mqtt-oidc/test-support/idp-user-agent'
import { startTestIdp, type TestIdp } from './support/test-idp.js'

// Requests a browser makes without the IdP's session cookie (a stale tab, a
// cleared cookie jar, a forged form): an answer for a person, nothing for the
// error log, and the same frame-blocking headers as every other page.

let t: TestIdp
const logged: Array<{ level: number; msg: string }> = []

beforeAll(async () => {
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      logged.push(JSON.parse(chunk.toString()) as { level: number; msg: string })
      done()
    },
  })
  t = await startTestIdp({ logger: pino({ level: 'debug' }, sink) })
})
afterAll(async () => {
  await t?.close()
})

const errorsLogged = () => logged.filter((line) => line.level >= 50)

describe('POST /device without a session cookie', () => {
  it('answers a 400 page that sends the person back to the code page, and logs no error', async () => {
    const res = await fetch(`${t.issuer}/device`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'xsrf=forged&user_code=BCDF-GHJK-LMNP',
    })
    const page = parsePage(`${t.issuer}/device`, res.status, res.headers, await res.text())
    expect(page).toMatchObject({ status: 400, name: 'error', forms: [] })
    expect(page.html).toContain(`<p>This page has expired. Open ${t.issuer}/device again and enter the code shown on your device.</p>`)
    expect(res.headers.get('x-frame-options')).toBe('DENY')
    expect(res.headers.get('content-security-policy')).toContain("frame-ancestors 'none'")
    expect(errorsLogged()).toEqual([])
  })

  it('also with a session cookie the store no longer knows', async () => {
    const res = await fetch(`${t.issuer}/device`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: '_session=unknown-session-id; _session.sig=forged' },
      body: 'xsrf=forged&user_code=BCDF-GHJK-LMNP',
    })
    expect(res.status).toBe(400)
    expect(errorsLogged()).toEqual([])
  })
})

describe('GET /session/end without a session', () => {
  it('is served with the frame-blocking headers of every other page', async () => {
    const res = await fetch(`${t.issuer}/session/end`)
    expect(res.status).toBe(200)
    expect(res.headers.get('x-frame-options')).toBe('DENY')
    const csp = res.headers.get('content-security-policy') ?? ''
    expect(csp).toContain("frame-ancestors 'none'")
    // Its one auto-submitting script is allowed by hash, nothing else.
    expect(csp).toMatch(/script-src 'sha256-[A-Za-z0-9+/=]+'(;|$)/)
  })
})
