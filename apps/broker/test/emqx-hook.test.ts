import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { pino } from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createEmqxHookServer } from '../src/index.js'
import type { EmqxHookServer } from '../src/index.js'
import { startFakeExchange } from '@mqtt-oidc/test-support/fake-exchange'
import type { FakeExchange } from '@mqtt-oidc/test-support/fake-exchange'
import { createTokenKit, nowSeconds } from '@mqtt-oidc/test-support/token-kit'
import type { TokenKit } from '@mqtt-oidc/test-support/token-kit'

const BROKER = 'emqx'
let exchange: FakeExchange
let kit: TokenKit
let hook: EmqxHookServer
let url: string
const kicks: Array<{ method: string; path: string; authorization: string | undefined }> = []
let onKick: () => void = () => {}
const emqxApi = createServer((req, res) => {
  kicks.push({ method: req.method ?? '', path: req.url ?? '', authorization: req.headers.authorization })
  res.writeHead(204).end()
  onKick()
})

/** What EMQX 5 sends with apps/broker/EMQX.md's config: POST, `Content-Type: application/json`, the rendered body template. */
async function emqx(path: '/emqx/authn' | '/emqx/authz', body: Record<string, string>): Promise<{ status: number; type: string | null; body: unknown }> {
  const res = await fetch(`${url}${path}`, {
    method: 'POST', headers: { 'content-type': 'application/json', 'x-request-source': 'EMQX' }, body: JSON.stringify(body),
  })
  return { status: res.status, type: res.headers.get('content-type'), body: await res.json() }
}
const authn = (clientid: string, password: string, username = clientid) =>
  emqx('/emqx/authn', { clientid, username, password, peerhost: '127.0.0.1' })
const authz = (clientid: string, action: string, topic: string, username = clientid) =>
  emqx('/emqx/authz', { clientid, username, topic, action, qos: '1', retain: 'false' })

beforeAll(async () => {
  exchange = await startFakeExchange({ broker: BROKER })
  kit = await createTokenKit({ issuer: exchange.url, audience: BROKER })
  exchange.jwks = { keys: [kit.publicJwk] }
  await new Promise<void>((resolve) => emqxApi.listen(0, '127.0.0.1', resolve))
  hook = createEmqxHookServer({
    brokerId: BROKER, exchangeUrl: exchange.url, port: 0, logger: pino({ level: 'silent' }),
    emqxApi: { url: `http://127.0.0.1:${(emqxApi.address() as AddressInfo).port}`, apiKey: 'key', apiSecret: 'secret' },
  })
  url = (await hook.listen()).url
})
afterAll(async () => {
  await hook?.close()
  await exchange?.close()
  await new Promise((resolve) => emqxApi.close(resolve))
})

describe('POST /emqx/authn (EMQX 5 HTTP authentication)', () => {
  it('allows a valid token with the EMQX response body: result, is_superuser, client_attrs.jti and expire_at', async () => {
    const exp = nowSeconds() + 300
    const answer = await authn('c1', await kit.sign({ sub: 'c1', jti: 'j-c1', exp }))
    expect(answer).toEqual({
      status: 200, type: 'application/json',
      body: { result: 'allow', is_superuser: false, client_attrs: { jti: 'j-c1' }, expire_at: exp },
    })
  })

  it.each([
    ['a token for another broker', async () => authn('c1', await kit.sign({ sub: 'c1', aud: 'other' }))],
    ['an expired token', async () => authn('c1', await kit.sign({ sub: 'c1', exp: nowSeconds() - 60 }))],
    ['a forged token', async () => authn('c1', await (await createTokenKit({ issuer: exchange.url, audience: BROKER, kid: kit.kid })).sign({ sub: 'c1' }))],
    ['a client id that is not sub', async () => authn('c2', await kit.sign({ sub: 'c1' }))],
    ['a username that is neither the username claim nor sub', async () => authn('c1', await kit.sign({ sub: 'c1' }), 'mallory')],
    ['an empty password (EMQX renders a missing ${password} as "")', async () => authn('c1', '')],
    ['garbage', async () => authn('c1', 'hunter2')],
  ])('denies %s with {"result":"deny"} (never "ignore")', async (_name, call) => {
    expect(await call()).toEqual({ status: 200, type: 'application/json', body: { result: 'deny' } })
  })

  it('denies a body it cannot read', async () => {
    const res = await fetch(`${url}/emqx/authn`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{not json' })
    expect([res.status, await res.json()]).toEqual([200, { result: 'deny' }])
  })

  it('accepts a form-encoded body too (EMQX with Content-Type x-www-form-urlencoded)', async () => {
    const res = await fetch(`${url}/emqx/authn`, {
      method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ clientid: 'f1', username: 'f1', password: await kit.sign({ sub: 'f1' }) }),
    })
    expect(await res.json()).toMatchObject({ result: 'allow' })
  })
})

describe('POST /emqx/authz (EMQX 5 HTTP authorization)', () => {
  it('allows publish and subscribe inside the token ACL, per filter, and denies the rest', async () => {
    await authn('z1', await kit.sign({ sub: 'z1', acl: { pub: ['devices/${clientid}/#'], sub: ['devices/${clientid}/#', 'news/+'] } }))
    const cases: Array<[string, string, string]> = [
      ['publish', 'devices/z1/temp', 'allow'], ['publish', 'devices/z2/temp', 'deny'], ['publish', 'devices/z1/#', 'deny'],
      ['publish', '$SYS/broker/x', 'deny'], ['subscribe', 'devices/z1/#', 'allow'], ['subscribe', 'news/today', 'allow'],
      ['subscribe', '#', 'deny'], ['subscribe', 'devices/+/#', 'deny'], ['subscribe', '$share/g/devices/z1/x', 'allow'],
      ['subscribe', '$SYS/#', 'deny'], ['all', 'devices/z1/temp', 'deny'],
    ]
    for (const [action, topic, result] of cases) {
      expect([action, topic, (await authz('z1', action, topic)).body]).toEqual([action, topic, { result }])
    }
  })

  it('denies everything to a client it never authenticated', async () => {
    expect((await authz('stranger', 'publish', 'devices/stranger/x')).body).toEqual({ result: 'deny' })
  })

  it('denies a live session once its jti is revoked, and allows it again after unrevoke', async () => {
    await authn('rv', await kit.sign({ sub: 'rv', jti: 'j-rv' }))
    expect((await authz('rv', 'publish', 'devices/rv/x')).body).toEqual({ result: 'allow' })
    const revoked = new Promise<void>((resolve) => hook.follower?.on('revoked', (jti) => jti === 'j-rv' && resolve()))
    const kicked = new Promise<void>((resolve) => (onKick = resolve))
    exchange.revoke('j-rv')
    await revoked
    // the live session is kicked through EMQX's REST API (it would otherwise keep its existing subscriptions)
    await kicked
    expect(kicks).toEqual([{ method: 'DELETE', path: '/api/v5/clients/rv', authorization: `Basic ${Buffer.from('key:secret').toString('base64')}` }])
    expect((await authz('rv', 'publish', 'devices/rv/x')).body).toEqual({ result: 'deny' })
    expect((await authn('rv', await kit.sign({ sub: 'rv', jti: 'j-rv' }))).body).toEqual({ result: 'deny' })
    const unrevoked = new Promise<void>((resolve) => hook.follower?.on('unrevoked', (jti) => jti === 'j-rv' && resolve()))
    exchange.unrevoke('j-rv')
    await unrevoked
    expect((await authn('rv', await kit.sign({ sub: 'rv', jti: 'j-rv' }))).body).toMatchObject({ result: 'allow' })
  })

  it('denies a session whose token has expired', async () => {
    await authn('ex', await kit.sign({ sub: 'ex', exp: nowSeconds() + 1 }))
    expect((await authz('ex', 'publish', 'devices/ex/x')).body).toEqual({ result: 'allow' })
    const until = (nowSeconds() + 1) * 1000
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, until - Date.now()) + 5))
    expect((await authz('ex', 'publish', 'devices/ex/x')).body).toEqual({ result: 'deny' })
  })
})
