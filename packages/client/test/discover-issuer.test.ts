import { mkdtempSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { decodeJwt } from 'jose'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createSqliteStore } from '@mqtt-oidc/core'
import type { Store } from '@mqtt-oidc/core'
import { createExchange } from '@mqtt-oidc/exchange'
import type { Exchange } from '@mqtt-oidc/exchange'
import { createAdminClient } from '../src/create-admin-client.js'
import { createTokenStore } from '../src/create-token-store.js'
import { discoverIssuer } from '../src/discover-issuer.js'
import { BIN, runNode } from './support/run-tsx.js'
import { startMiniOidc } from './support/mini-oidc.js'
import type { MiniOidc } from './support/mini-oidc.js'

const WELL_KNOWN = 'GET /.well-known/openid-configuration'
let dir: string
beforeAll(() => { dir = mkdtempSync(join(tmpdir(), 'mqtt-oidc-discovery-')) })
afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe('discoverIssuer with a cache dir', () => {
  it('uses a young cached copy without a request, re-discovers an old one, and falls back to it while the IdP is down', async () => {
    const idp = await startMiniOidc()
    const cacheDir = join(dir, 'cache-1')
    const first = await discoverIssuer(idp.issuer, 'mqtt-oidc-cli', { cacheDir })
    expect(idp.hitCount(WELL_KNOWN)).toBe(1)
    expect(statSync(join(cacheDir, 'discovery.json')).mode & 0o777).toBe(0o600)

    const cached = await discoverIssuer(idp.issuer, 'mqtt-oidc-cli', { cacheDir })
    expect(idp.hitCount(WELL_KNOWN)).toBe(1)
    expect(cached.serverMetadata()).toEqual(first.serverMetadata())
    expect(cached.clientMetadata().client_id).toBe('mqtt-oidc-cli')

    await discoverIssuer(idp.issuer, 'mqtt-oidc-cli', { cacheDir, cacheMaxAgeSeconds: 0 })
    expect(idp.hitCount(WELL_KNOWN)).toBe(2)

    await idp.close()
    const fallback = await discoverIssuer(idp.issuer, 'mqtt-oidc-cli', { cacheDir, cacheMaxAgeSeconds: 0 })
    expect(fallback.serverMetadata().token_endpoint).toBe(first.serverMetadata().token_endpoint)
    await expect(discoverIssuer(idp.issuer, 'mqtt-oidc-cli', { cacheDir: join(dir, 'empty') })).rejects.toThrow()
  })
})

describe('mqtt-oidc token while the IdP is down', () => {
  let idp: MiniOidc
  let exchange: Exchange
  let store: Store
  afterAll(async () => {
    await exchange?.close()
    await store?.close()
  })

  it('prints a broker token from the cached, still valid login without the IdP', { timeout: 60_000 }, async () => {
    idp = await startMiniOidc()
    store = createSqliteStore(join(dir, 'exchange.sqlite'))
    exchange = createExchange({ store, idp: { issuer: idp.issuer }, logLevel: 'silent' })
    const exchangeUrl = (await exchange.listen()).url
    await createAdminClient({ adminCredentials: { issuer: idp.issuer, exchange: exchangeUrl, ...idp.adminClient } }).createBroker('demo')
    const configDir = join(dir, 'config')
    await createTokenStore(configDir).set({ issuer: idp.issuer, clientId: 'mqtt-oidc-cli' }, await idp.login(3600))
    const env = { MQTT_OIDC_CLI_ISSUER: idp.issuer, MQTT_OIDC_CLI_EXCHANGE_URL: exchangeUrl, MQTT_OIDC_CLI_CONFIG_DIR: configDir }
    const token = (): ReturnType<typeof runNode> => runNode(BIN, ['token', '--broker', 'demo'], { cwd: dir, env })

    const up = await token() // discovers (and caches); the exchange fetches the IdP's keys
    expect([up.code, up.stderr]).toEqual([0, ''])
    await idp.close()
    const down = await token()
    expect([down.code, down.stderr]).toEqual([0, ''])
    expect(decodeJwt(down.stdout.trim())).toMatchObject({ aud: 'demo', sub: 'gateway-1' })
  })
})
