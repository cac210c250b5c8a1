import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { decodeJwt } from 'jose'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { writeSecretFile } from '@mqtt-oidc/core'
import type { Store } from '@mqtt-oidc/core'
import { createSqliteStore } from '@mqtt-oidc/store'
import { createExchange } from '@mqtt-oidc/exchange'
import type { Exchange } from '@mqtt-oidc/exchange'
import { createAdminClient } from '@mqtt-oidc/client'
import type { AdminClient } from '@mqtt-oidc/client'
import { BIN } from './support/cli-bin.js'
import { runNode, SOURCE_EXEC_ARGV } from '@mqtt-oidc/test-support/run-tsx'
import type { RunResult } from '@mqtt-oidc/test-support/run-tsx'
import { runCommand } from '@mqtt-oidc/test-support/run-command'
import { startMiniOidc } from '@mqtt-oidc/test-support/mini-oidc'
import type { MiniOidc } from '@mqtt-oidc/test-support/mini-oidc'

let idp: MiniOidc
let exchange: Exchange
let store: Store
let dir: string
let env: NodeJS.ProcessEnv
let admin: AdminClient
// The exchange's clock: real time at the start (the IdP's admin tokens are checked against it), moved on by the tests.
let clock = Math.floor(Date.now() / 1000)

/** `mqtt-oidc <args>` with stdout a pipe: JSON. */
const cli = (args: string[]): Promise<RunResult> => runNode(BIN, args, { cwd: dir, env })

/** `mqtt-oidc <args>` on a terminal (a pseudo-terminal from script(1)), in UTC: what a person sees, stdout and stderr together. */
async function onTerminal(args: string[]): Promise<string> {
  const quote = (s: string): string => `'${s.replaceAll("'", `'\\''`)}'`
  const line = [process.execPath, ...SOURCE_EXEC_ARGV, BIN, ...args].map(quote).join(' ')
  const run = await runCommand('script', ['-qec', line, '/dev/null'], { env: { ...process.env, ...env, TZ: 'UTC', COLUMNS: '200' }, cwd: dir })
  expect(run.code).toBe(0)
  return run.stdout.replaceAll('\r\n', '\n')
}

const ok = (r: RunResult): unknown => {
  expect([r.code, r.stderr]).toEqual([0, ''])
  return JSON.parse(r.stdout) as unknown
}

/** Issues one credential per client id through the API; returns the jtis by client id. */
async function issue(broker: string, clientIds: string[], expiration: number | string = '1h'): Promise<Record<string, string>> {
  const tokens = await admin.issueCredentials(broker, { clientIds, expiration })
  return Object.fromEntries(Object.entries(tokens).map(([id, token]) => [id, decodeJwt(token).jti as string]))
}

/** Epoch seconds as the table shows them in UTC. */
const utc = (s: number): string => `${new Date(s * 1000).toISOString().slice(0, 19).replace('T', ' ')} +00:00`

beforeAll(async () => {
  idp = await startMiniOidc()
  dir = mkdtempSync(join(tmpdir(), 'mqtt-oidc-cli-credentials-'))
  const dataDir = join(dir, 'data')
  store = createSqliteStore(join(dir, 'exchange.sqlite'))
  exchange = createExchange({ store, idp: { issuer: idp.issuer }, logLevel: 'silent', now: () => clock })
  const exchangeUrl = (await exchange.listen()).url
  const creds = { issuer: idp.issuer, exchange: exchangeUrl, ...idp.adminClient }
  admin = createAdminClient({ adminCredentials: creds })
  writeSecretFile(join(dataDir, 'admin-client.json'), JSON.stringify(creds))
  env = {
    MQTT_OIDC_CLI_ISSUER: idp.issuer,
    MQTT_OIDC_CLI_EXCHANGE_URL: exchangeUrl,
    MQTT_OIDC_CLI_CONFIG_DIR: join(dir, 'config'),
    MQTT_OIDC_DATA_DIR: dataDir,
  }
})
afterAll(async () => {
  await exchange.close()
  await store.close()
  await idp.close()
  rmSync(dir, { recursive: true, force: true })
})

describe('mqtt-oidc broker credentials list', () => {
  it('prints a table on a terminal: client id, jti, issued, expires and revoked in local time, newest first', async () => {
    await admin.createBroker('table')
    const start = clock
    const old = await issue('table', ['sensor-1'], 60)
    clock += 120
    const fresh = await issue('table', ['gw-1'], -1)
    clock += 1
    const revoked = await issue('table', ['gw-22'], '1h')
    await admin.revoke('table', [revoked['gw-22']!])

    expect(await onTerminal(['broker', 'credentials', 'list', 'table'])).toBe(
      [
        'CLIENT ID  JTI                         ISSUED                      EXPIRES                               REVOKED                     SOURCE',
        `gw-22      ${revoked['gw-22']}  ${utc(start + 121)}  ${utc(start + 3721)}            ${utc(start + 121)}  admin`,
        `gw-1       ${fresh['gw-1']}  ${utc(start + 120)}  never                                 -                           admin`,
        `sensor-1   ${old['sensor-1']}  ${utc(start)}  ${utc(start + 60)} (expired)  -                           admin`,
        '',
      ].join('\n'),
    )
    expect(await onTerminal(['broker', 'credentials', 'list', 'table', '--client-id', 'nobody'])).toBe('No credentials match.\n')
  })

  it("prints the admin API's JSON into a pipe (or with --json), filtered by state, client id, search, source and times", async () => {
    await admin.createBroker('json')
    const start = clock
    const a = await issue('json', ['dev-1', 'dev-2'], 60)
    clock += 100
    const b = await issue('json', ['dev-1', 'pump-7'], '1h')
    await admin.revoke('json', [b['pump-7']!])
    const list = async (...args: string[]): Promise<string[]> =>
      (ok(await cli(['broker', 'credentials', 'list', 'json', ...args])) as { credentials: Array<{ jti: string }> }).credentials.map((c) => c.jti)

    expect(ok(await cli(['broker', 'credentials', 'list', 'json', '--client-id', 'dev-2', '--json']))).toEqual({
      credentials: [
        {
          jti: a['dev-2'],
          clientId: 'dev-2',
          username: null,
          issuedAt: start,
          expiresAt: start + 60,
          source: 'admin',
          issuedBy: idp.adminClient.clientId,
          revokedAt: null,
          state: 'expired',
        },
      ],
      next: null,
    })
    expect(await list('--state', 'live')).toEqual([b['dev-1']])
    expect(await list('--state', 'revoked')).toEqual([b['pump-7']])
    expect((await list('--state', 'expired')).sort()).toEqual([a['dev-1'], a['dev-2']].sort())
    expect(await list('--search', 'ump')).toEqual([b['pump-7']])
    expect(await list('--jti', a['dev-1']!)).toEqual([a['dev-1']])
    expect(await list('--source', 'exchange')).toEqual([])
    expect((await list('--issued-after', String(start))).sort()).toEqual([b['dev-1'], b['pump-7']].sort())
    expect((await list('--issued-before', new Date((start + 1) * 1000).toISOString())).sort()).toEqual([a['dev-1'], a['dev-2']].sort())
    expect((await list('--expires-before', String(start + 61))).sort()).toEqual([a['dev-1'], a['dev-2']].sort())
  })

  it("pages: --limit, then the answer's next as --cursor; a terminal is told how to go on", async () => {
    await admin.createBroker('pages')
    await issue('pages', ['p1', 'p2', 'p3'])
    const first = ok(await cli(['broker', 'credentials', 'list', 'pages', '--limit', '2'])) as { credentials: unknown[]; next: string }
    expect(first.credentials).toHaveLength(2)
    const rest = ok(await cli(['broker', 'credentials', 'list', 'pages', '--limit', '2', '--cursor', first.next])) as { credentials: unknown[]; next: unknown }
    expect([rest.credentials.length, rest.next]).toEqual([1, null])
    expect(await onTerminal(['broker', 'credentials', 'list', 'pages', '--limit', '2'])).toMatch(
      new RegExp(`\nMore credentials match: add --cursor ${first.next} for the next page, or narrow the filters\\.\n$`),
    )
  })

  it("refuses bad filters before asking the exchange, and an unknown broker with the exchange's words", async () => {
    expect(await cli(['broker', 'credentials', 'list', 'json', '--issued-after', 'yesterday'])).toMatchObject({
      code: 1,
      stdout: '',
      stderr: expect.stringContaining('--issued-after takes epoch seconds, an ISO 8601 time such as 2030-01-31T12:00:00Z, or a duration ago such as 2h or 7d.'),
    })
    expect(await cli(['broker', 'credentials', 'list', 'json', '--limit', '0'])).toMatchObject({
      code: 1,
      stdout: '',
      stderr: expect.stringContaining('use a whole number from 1 to 1000.'),
    })
    expect(await cli(['broker', 'credentials', 'list', 'json', '--state', 'alive'])).toMatchObject({
      code: 1,
      stdout: '',
      stderr: expect.stringContaining('Allowed choices are live, expired, revoked.'),
    })
    expect(await cli(['broker', 'credentials', 'list', 'nope'])).toMatchObject({
      code: 1,
      stdout: '',
      stderr: expect.stringContaining('unknown broker "nope"'),
    })
  })
})

describe('mqtt-oidc broker revoke --client-id', () => {
  it('revokes every live credential of the client id and prints their jtis; the listing then shows them revoked', async () => {
    await admin.createBroker('cut')
    const first = await issue('cut', ['gw-1', 'gw-2'])
    clock += 1
    const second = await issue('cut', ['gw-1'])
    expect(ok(await cli(['broker', 'revoke', 'cut', '--client-id', 'gw-1']))).toEqual({ revision: 2, revoked: [second['gw-1'], first['gw-1']] })
    const states = (ok(await cli(['broker', 'credentials', 'list', 'cut'])) as { credentials: Array<{ clientId: string; state: string }> }).credentials.map(
      (c) => `${c.clientId} ${c.state}`,
    )
    expect(states.sort()).toEqual(['gw-1 revoked', 'gw-1 revoked', 'gw-2 live'])
  })

  it('says so on stderr when the client id had nothing live, and refuses an unknown client id, revoking nothing', async () => {
    await admin.createBroker('none')
    const a = await issue('none', ['gw-1', 'gw-2'])
    await admin.revoke('none', [a['gw-1']!])
    expect(await cli(['broker', 'revoke', 'none', '--client-id', 'gw-1'])).toMatchObject({
      code: 0,
      stdout: `${JSON.stringify({ revision: 1, revoked: [] }, null, 2)}\n`,
      stderr: 'Nothing was revoked: gw-1 had no live credential.\n',
    })
    expect(await cli(['broker', 'revoke', 'none', '--client-id', 'gw-2', '--client-id', 'ghost'])).toMatchObject({
      code: 1,
      stdout: '',
      stderr: expect.stringContaining('no credential of broker "none" has client id: ghost'),
    })
    expect((await admin.listCredentials('none', { clientId: 'gw-2' })).credentials).toMatchObject([{ state: 'live' }])
    expect(await cli(['broker', 'revoke', 'none'])).toMatchObject({
      code: 1,
      stdout: '',
      stderr: expect.stringContaining('give --jti or --client-id (see `mqtt-oidc broker revoke --help`); nothing was revoked'),
    })
  })
})
