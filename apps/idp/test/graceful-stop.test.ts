import { connect } from 'node:net'
import type { Socket } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { CLI_CLIENT_ID, startTestIdp, type TestIdp } from './support/test-idp.js'

let t: TestIdp | undefined
afterEach(async () => {
  await t?.close().catch(() => undefined)
  t = undefined
})

/** Everything the server sends on `socket` until it closes it. */
function readAll(socket: Socket): Promise<string> {
  return new Promise((resolve) => {
    let text = ''
    socket.setEncoding('utf8')
    socket.on('data', (chunk: string) => (text += chunk))
    socket.on('error', () => undefined)
    socket.once('close', () => resolve(text))
  })
}

// A stop (SIGTERM from a supervisor, a rolling restart) used to destroy every connection at once and
// close the store right after: a token request in flight then either lost its answer or reached the
// closed store (the soak on PostgreSQL caught "Cannot use a pool after calling end on the pool"
// logged as an error during an IdP restart). A stop lets requests in flight finish first.
describe('stopping the IdP', () => {
  it('answers a request that was in flight when the stop began, then closes', async () => {
    t = await startTestIdp()
    const body = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: 'not-a-real-one', client_id: CLI_CLIENT_ID }).toString()
    const socket = connect(t.port, '127.0.0.1')
    await new Promise<void>((resolve) => socket.once('connect', resolve))
    const answer = readAll(socket)
    const half = Math.floor(body.length / 2)
    socket.write(
      `POST /token HTTP/1.1\r\nHost: 127.0.0.1:${t.port}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: ${body.length}\r\n\r\n${body.slice(0, half)}`,
    )
    // the request has begun (its headers are in); now stop, then let the rest of its body arrive
    await new Promise((resolve) => setTimeout(resolve, 100))
    const stopped = t.idp.close()
    socket.write(body.slice(half))
    const text = await answer
    await stopped
    expect(text).toMatch(/^HTTP\/1\.1 400 /)
    expect(text).toContain('"error":"invalid_grant"')
  })

  it('does not wait for idle keep-alive connections', async () => {
    t = await startTestIdp()
    const res = await fetch(`${t.issuer}/.well-known/openid-configuration`)
    expect(res.status).toBe(200)
    await res.text()
    // the fetch's keep-alive connection stays open and idle: close must not wait for it to time out
    await t.idp.close()
    await expect(fetch(`${t.issuer}/.well-known/openid-configuration`)).rejects.toThrow()
  })
})
