import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { decodeJwt } from 'jose'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Store } from '@mqtt-oidc/core'
import { createSqliteStore } from '@mqtt-oidc/store'
import { createExchange } from '@mqtt-oidc/exchange'
import type { Exchange } from '@mqtt-oidc/exchange'
import { freePort } from '@mqtt-oidc/test-support/free-port'
import { createAdminClient, createTokenStore, discoverIssuer, exchangeToken, InsecureUrl, loginWithDeviceFlow } from '@mqtt-oidc/client'
import { runNode } from '@mqtt-oidc/test-support/run-tsx'
import { BIN } from './support/cli-bin.js'
import { startMiniOidc } from '@mqtt-oidc/test-support/mini-oidc'
import type { MiniOidc } from '@mqtt-oidc/test-support/mini-oidc'

// A container on a compose network reaches the IdP as http://idp:4000 and the
// exchange as http://exchange:4001, while the issuer people, pages and tokens
// name is http://localhost:4000 (the host's published port). Here the public
// URLs are loopback ports nobody listens on, and the servers listen elsewhere:
// every request must go to the fetch-from address, and every check must still
// be made against the public URL.

let dir: string
let idp: MiniOidc
let store: Store
let exchange: Exchange
let exchangeAt: string
let publicExchange: string

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'mqtt-oidc-fetch-from-'))
  idp = await startMiniOidc({ issuer: `http://localhost:${await freePort()}` })
  publicExchange = `http://localhost:${await freePort()}`
  store = createSqliteStore(join(dir, 'exchange.sqlite'))
  exchange = createExchange({ store, issuer: publicExchange, idp: { issuer: idp.issuer, jwksUri: `${idp.address}/jwks` }, logLevel: 'silent' })
  exchangeAt = (await exchange.listen()).url
})

afterAll(async () => {
  await exchange?.close()
  await store?.close()
  await idp?.close()
  rmSync(dir, { recursive: true, force: true })
})

describe('discoverIssuer fetchFrom', () => {
  it('signs in with the device flow through the other address, showing and checking the public issuer', async () => {
    const config = await discoverIssuer(idp.issuer, 'mqtt-oidc-cli', { fetchFrom: idp.address })
    expect(config.serverMetadata().issuer).toBe(idp.issuer)
    const shown: string[] = []
    const tokens = await loginWithDeviceFlow(config, {
      onPrompt: ({ verificationUri, userCode }) => {
        shown.push(verificationUri)
        idp.decide(userCode, true)
      },
    })
    expect(shown).toEqual([`${idp.issuer}/device`])
    expect(decodeJwt(tokens.idToken)).toMatchObject({ iss: idp.issuer, aud: 'mqtt-oidc-cli' })
    expect(idp.hitCount('GET /.well-known/openid-configuration')).toBeGreaterThan(0)
  })

  it('refuses a server at the other address that names another issuer', async () => {
    const elsewhere = `http://localhost:${await freePort()}`
    await expect(discoverIssuer(elsewhere, 'mqtt-oidc-cli', { fetchFrom: idp.address })).rejects.toMatchObject({ code: 'OAUTH_JSON_ATTRIBUTE_COMPARISON_FAILED' })
  })

  it('refuses plain http to another host for an https issuer or exchange, before sending anything', async () => {
    const refused = discoverIssuer('https://idp.example.com', 'mqtt-oidc-cli', { fetchFrom: 'http://idp:4000' })
    await expect(refused).rejects.toThrow(InsecureUrl)
    await expect(refused).rejects.toThrow('issuer fetch-from URL "http://idp:4000" must use https:// (plain http:// is allowed for localhost / 127.0.0.1 only)')
    await expect(exchangeToken({ exchangeUrl: 'https://exchange.example.com', fetchFrom: 'http://exchange:4001', broker: 'demo', subjectToken: 'x' }))
      .rejects.toThrow('exchange fetch-from URL "http://exchange:4001" must use https://')
  })
})

describe('the CLI with MQTT_OIDC_CLI_ISSUER_FETCH_FROM and MQTT_OIDC_CLI_EXCHANGE_FETCH_FROM', () => {
  it('administers, and exchanges a login for a broker token, with every public URL unreachable', async () => {
    // The admin token is asked for the public exchange URL (its `resource`), which the exchange checks as its own issuer.
    const admin = createAdminClient({
      adminCredentials: { issuer: idp.issuer, exchange: publicExchange, ...idp.adminClient },
      fetchFrom: { issuer: idp.address, exchange: exchangeAt },
    })
    await admin.createBroker('demo')

    const dataDir = join(dir, 'data')
    mkdirSync(dataDir, { mode: 0o700 })
    writeFileSync(join(dataDir, 'admin-client.json'), JSON.stringify({ issuer: idp.issuer, exchange: publicExchange, ...idp.adminClient }), { mode: 0o600 })
    const configDir = join(dir, 'config')
    await createTokenStore(configDir).set({ issuer: idp.issuer, clientId: 'mqtt-oidc-cli' }, await idp.login(3600))
    const env = {
      MQTT_OIDC_CLI_ISSUER: idp.issuer,
      MQTT_OIDC_CLI_EXCHANGE_URL: publicExchange,
      MQTT_OIDC_CLI_ISSUER_FETCH_FROM: idp.address,
      MQTT_OIDC_CLI_EXCHANGE_FETCH_FROM: exchangeAt,
      MQTT_OIDC_CLI_CONFIG_DIR: configDir,
      MQTT_OIDC_DATA_DIR: dataDir,
    }
    const issued = await runNode(BIN, ['broker', 'issue', 'demo', '--client-id', 'watcher', '--expiration', '1h', '--json'], { cwd: dir, env })
    expect([issued.code, issued.stderr]).toEqual([0, ''])
    expect(decodeJwt((JSON.parse(issued.stdout) as Record<string, string>).watcher!)).toMatchObject({ iss: publicExchange, aud: 'demo', sub: 'watcher' })

    const token = await runNode(BIN, ['token', '--broker', 'demo'], { cwd: dir, env })
    expect([token.code, token.stderr]).toEqual([0, ''])
    expect(decodeJwt(token.stdout.trim())).toMatchObject({ iss: publicExchange, aud: 'demo', sub: 'gateway-1' })
  })
})
