import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { decodeJwt } from 'jose'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { writeSecretFile } from '@mqtt-oidc/core'
import { createSqliteStore } from '@mqtt-oidc/store'
import type { Store } from '@mqtt-oidc/core'
import { createExchange } from '@mqtt-oidc/exchange'
import type { Exchange } from '@mqtt-oidc/exchange'
import { createAdminClient } from '@mqtt-oidc/client'
import { createTokenStore } from '@mqtt-oidc/client'
import { BIN, CLI_MAIN } from './support/cli-bin.js'
import { runNode } from '@mqtt-oidc/test-support/run-tsx'
import { runOnTerminal } from '@mqtt-oidc/test-support/run-on-terminal'
import type { RunResult } from '@mqtt-oidc/test-support/run-tsx'
import { startMiniOidc } from '@mqtt-oidc/test-support/mini-oidc'
import type { MiniOidc } from '@mqtt-oidc/test-support/mini-oidc'

let idp: MiniOidc
let exchange: Exchange
let exchangeUrl: string
let store: Store
let dir: string
let dataDir: string
let configDir: string

/** Runs the installed launcher (bin/mqtt-oidc.js) with a clean environment pointing at the test servers. */
const cli = (args: string[], env: NodeJS.ProcessEnv = {}): Promise<RunResult> =>
  runNode(BIN, args, {
    cwd: dir,
    env: { MQTT_OIDC_CLI_ISSUER: idp.issuer, MQTT_OIDC_CLI_EXCHANGE_URL: exchangeUrl, MQTT_OIDC_CLI_CONFIG_DIR: configDir, MQTT_OIDC_DATA_DIR: dataDir, ...env },
  })

beforeAll(async () => {
  idp = await startMiniOidc()
  dir = mkdtempSync(join(tmpdir(), 'mqtt-oidc-cli-'))
  dataDir = join(dir, 'data')
  configDir = join(dir, 'config')
  store = createSqliteStore(join(dir, 'exchange.sqlite'))
  exchange = createExchange({ store, idp: { issuer: idp.issuer }, logLevel: 'silent' })
  exchangeUrl = (await exchange.listen()).url
  const creds = { issuer: idp.issuer, exchange: exchangeUrl, ...idp.adminClient }
  rmSync(dataDir, { recursive: true, force: true })
  await createAdminClient({ adminCredentials: creds }).createBroker('demo')
  writeSecretFile(join(dataDir, 'admin-client.json'), JSON.stringify(creds))
})
afterAll(async () => {
  await exchange.close()
  await store.close()
  await idp.close()
  rmSync(dir, { recursive: true, force: true })
})

describe('mqtt-oidc CLI: argument validation', () => {
  it('refuses `broker issue demo --number 101` with one line, exit 1, and no HTTP request', async () => {
    // Point the admin credentials at the mini IdP for both URLs, so any request at all would be counted.
    const countingDir = join(dir, 'counting')
    writeSecretFile(join(countingDir, 'admin-client.json'), JSON.stringify({ issuer: idp.issuer, exchange: idp.issuer, ...idp.adminClient }))
    idp.hits.clear()
    const r = await cli(['broker', 'issue', 'demo', '--number', '101', '--data-dir', countingDir])
    expect(r).toEqual({
      code: 1,
      stdout: '',
      stderr: "mqtt-oidc: option '-n, --number <n>' argument '101' is invalid. --number must be a whole number from 1 to 100; nothing was issued.\n",
    })
    expect([...idp.hits.keys()]).toEqual([])
  })

  it('says how to fix missing admin credentials, in one line', async () => {
    const r = await cli(['broker', 'list', '--data-dir', join(dir, 'nowhere')])
    expect(r).toEqual({
      code: 1,
      stdout: '',
      stderr: `mqtt-oidc: admin credentials ${join(dir, 'nowhere', 'admin-client.json')} not found: start the stack (pnpm start) or pass --data-dir\n`,
    })
  })

  it('exits 2 with the login hint when nobody is logged in', async () => {
    const r = await runNode(CLI_MAIN, ['token', '--broker', 'demo', '--config-dir', join(dir, 'empty-config')], {
      cwd: dir, env: { MQTT_OIDC_CLI_ISSUER: idp.issuer, MQTT_OIDC_CLI_EXCHANGE_URL: exchangeUrl },
    })
    expect(r).toEqual({ code: 2, stdout: '', stderr: 'mqtt-oidc: not logged in: run `mqtt-oidc login --device`\n' })
  })
})

describe('mqtt-oidc CLI against an exchange', () => {
  it('`broker issue` prints the Cloudflare-style {clientid: token} map, pretty-printed', async () => {
    const r = await cli(['broker', 'issue', 'demo', '--number', '2', '--expiration', '48h'])
    expect([r.code, r.stderr]).toEqual([0, ''])
    const map = JSON.parse(r.stdout) as Record<string, string>
    expect(r.stdout).toBe(`${JSON.stringify(map, null, 2)}\n`)
    expect(Object.keys(map)).toHaveLength(2)
    for (const [clientId, token] of Object.entries(map)) {
      expect(decodeJwt(token)).toMatchObject({ sub: clientId, aud: 'demo' })
    }
  })

  it('`token --broker demo` prints the broker token for the cached login; --json adds its metadata; whoami never prints a token', async () => {
    const tokens = await idp.login(3600)
    await createTokenStore(configDir).set({ issuer: idp.issuer, clientId: 'mqtt-oidc-cli' }, tokens)
    const plain = await cli(['token', '--broker', 'demo'])
    expect([plain.code, plain.stderr]).toEqual([0, ''])
    const token = plain.stdout.trim()
    expect(decodeJwt(token)).toMatchObject({ aud: 'demo', sub: 'gateway-1', username: 'alice', iss: exchangeUrl })

    // At a terminal too: the bare token and nothing else, so `-P "$(mqtt-oidc token ...)"` and a person read the same.
    const tty = await runOnTerminal(BIN, ['token', '--broker', 'demo'], {
      cwd: dir, env: { MQTT_OIDC_CLI_ISSUER: idp.issuer, MQTT_OIDC_CLI_EXCHANGE_URL: exchangeUrl, MQTT_OIDC_CLI_CONFIG_DIR: configDir },
    })
    expect([tty.code, tty.stdout.replace(/^[\w-]+\.[\w-]+\.[\w-]+\n$/, '<token>\n')]).toEqual([0, '<token>\n'])
    expect(decodeJwt(tty.stdout.trim())).toMatchObject({ aud: 'demo', sub: 'gateway-1' })

    const json = await cli(['token', '--broker', 'demo', '--json'])
    expect(JSON.parse(json.stdout)).toMatchObject({
      broker: 'demo', token: expect.any(String), clientId: 'gateway-1', username: 'alice',
      acl: { pub: ['devices/${clientid}/#'], sub: ['devices/${clientid}/#'] },
    })

    const who = await cli(['whoami'])
    expect(who.code).toBe(0)
    expect(who.stdout).toContain('clientid  gateway-1')
    expect(who.stdout).toContain('username  alice')
    expect(who.stdout).not.toContain(tokens.idToken)
    expect(who.stdout).not.toContain(tokens.idToken.split('.')[1])
  })

  it('prints a refused exchange as one line with the OAuth error, exit 1', async () => {
    await createTokenStore(configDir).set({ issuer: idp.issuer, clientId: 'mqtt-oidc-cli' }, await idp.login(3600))
    const r = await cli(['token', '--broker', 'nope'])
    expect(r.code).toBe(1)
    expect(r.stdout).toBe('')
    expect(r.stderr).toMatch(/^mqtt-oidc: token exchange refused: invalid_target \(.*nope.*\)\n$/)
  })
})
