import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { decodeJwt } from 'jose'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createSqliteStore } from '@mqtt-oidc/store'
import type { Store } from '@mqtt-oidc/core'
import { createExchange } from '@mqtt-oidc/exchange'
import type { Exchange } from '@mqtt-oidc/exchange'
import { createAdminClient } from '@mqtt-oidc/client'
import { createTokenStore } from '@mqtt-oidc/client'
import { BIN } from './support/cli-bin.js'
import { runNode } from '@mqtt-oidc/test-support/run-tsx'
import { startMiniOidc } from '@mqtt-oidc/test-support/mini-oidc'
import type { MiniOidc } from '@mqtt-oidc/test-support/mini-oidc'

let dir: string
beforeAll(() => { dir = mkdtempSync(join(tmpdir(), 'mqtt-oidc-cli-offline-')) })
afterAll(() => rmSync(dir, { recursive: true, force: true }))

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
