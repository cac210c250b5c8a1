import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { decodeJwt, decodeProtectedHeader } from 'jose'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { writeSecretFile } from '@mqtt-oidc/core'
import { createSqliteStore } from '@mqtt-oidc/store'
import type { Store } from '@mqtt-oidc/core'
import { createExchange } from '@mqtt-oidc/exchange'
import type { Exchange } from '@mqtt-oidc/exchange'
import { createAdminClient } from '@mqtt-oidc/client'
import type { AdminClient } from '@mqtt-oidc/client'
import { BIN } from './support/cli-bin.js'
import { runNode } from '@mqtt-oidc/test-support/run-tsx'
import type { RunResult } from '@mqtt-oidc/test-support/run-tsx'
import { startMiniOidc } from '@mqtt-oidc/test-support/mini-oidc'
import type { MiniOidc } from '@mqtt-oidc/test-support/mini-oidc'

let idp: MiniOidc
let exchange: Exchange
let exchangeUrl: string
let store: Store
let dir: string
let dataDir: string
let admin: AdminClient

/** The installed launcher (bin/mqtt-oidc.js) as a child process, pointed at a real exchange. */
const cli = (args: string[]): Promise<RunResult> =>
  runNode(BIN, args, {
    cwd: dir,
    env: { MQTT_OIDC_CLI_ISSUER: idp.issuer, MQTT_OIDC_CLI_EXCHANGE_URL: exchangeUrl, MQTT_OIDC_CLI_CONFIG_DIR: join(dir, 'config'), MQTT_OIDC_DATA_DIR: dataDir },
  })

const ok = (r: RunResult): Record<string, unknown> => {
  expect([r.code, r.stderr]).toEqual([0, ''])
  return JSON.parse(r.stdout) as Record<string, unknown>
}

beforeAll(async () => {
  idp = await startMiniOidc()
  dir = mkdtempSync(join(tmpdir(), 'mqtt-oidc-cli-admin-'))
  dataDir = join(dir, 'data')
  store = createSqliteStore(join(dir, 'exchange.sqlite'))
  exchange = createExchange({ store, idp: { issuer: idp.issuer }, logLevel: 'silent' })
  exchangeUrl = (await exchange.listen()).url
  const creds = { issuer: idp.issuer, exchange: exchangeUrl, ...idp.adminClient }
  admin = createAdminClient({ adminCredentials: creds })
  await admin.createBroker('demo')
  writeSecretFile(join(dataDir, 'admin-client.json'), JSON.stringify(creds))
})
afterAll(async () => {
  await exchange.close()
  await store.close()
  await idp.close()
  rmSync(dir, { recursive: true, force: true })
})

const TEMPLATE = { when: { group: 'operators' }, acl: { pub: ['devices/${clientid}/#'], sub: ['commands/#'] } }

describe('mqtt-oidc broker create|update: ACL and policy flags', () => {
  it('create sets the ACL and every policy field; update changes only the fields given; show prints the result', async () => {
    const created = ok(await cli([
      'broker', 'create', 'plant', '--expiration', '1d',
      '--acl-pub', 'devices/${clientid}/#', '--acl-sub', 'commands/${clientid}/#', '--acl-sub', 'public/#',
      '--client-id-mode', 'generated', '--acl-template', JSON.stringify(TEMPLATE), '--max-lifetime', '15m',
      '--allowed-issuer', idp.issuer, '--rate-limit', '10/1m', '--profile', 'rabbitmq', '--resource-server-id', 'rabbitmq',
    ]))
    expect(created).toMatchObject({
      id: 'plant', expiration: 86400, acl: { pub: ['devices/${clientid}/#'], sub: ['commands/${clientid}/#', 'public/#'] },
      policy: {
        clientIdMode: 'generated', aclTemplates: [TEMPLATE], maxLifetime: 900, rateLimit: { requests: 10, windowSeconds: 60 },
        profile: 'rabbitmq', allowedIssuers: [idp.issuer], alg: 'RS256', resourceServerId: 'rabbitmq',
      },
    })

    const updated = ok(await cli([
      'broker', 'update', 'plant', '--alg', 'ES256', '--rate-limit', 'none', '--any-issuer', '--clear-acl-templates',
      '--max-lifetime', '-1', '--resource-server-id', 'none',
    ]))
    expect(updated.policy).toEqual({
      clientIdMode: 'generated', aclTemplates: [], maxLifetime: null, rateLimit: null, profile: 'rabbitmq', allowedIssuers: [], alg: 'ES256',
    })
    expect(updated).toMatchObject({ expiration: 86400, acl: created.acl })
    expect(ok(await cli(['broker', 'show', 'plant']))).toEqual(updated)
  })

  it('create --alg HS256 prints the broker secret once (hmacSecret); --profile emqx is stored', async () => {
    const created = ok(await cli(['broker', 'create', 'hmac', '--alg', 'HS256', '--profile', 'emqx']))
    expect(created).toMatchObject({ id: 'hmac', policy: { alg: 'HS256', profile: 'emqx' }, hmacSecret: expect.stringMatching(/^[\w-]{43}$/) })
    expect(await admin.getBroker('hmac')).not.toHaveProperty('hmacSecret')
  })

  it.each<[string[], string]>([
    [['--rate-limit', '0/1m'], "option '--rate-limit <n/window>' argument '0/1m' is invalid. use <requests>/<window>, e.g. 10/1m or 100/3600 (window 1s..1d), or \"none\"."],
    [['--profile', 'mosquitto'], "option '--profile <profile>' argument 'mosquitto' is invalid. --profile must be one of default, emqx, rabbitmq."],
    [['--acl-template', '{"acl":{"pub":["a/#/b"],"sub":[]}}'], "option '--acl-template <json>' argument '{\"acl\":{\"pub\":[\"a/#/b\"],\"sub\":[]}}' is invalid. an ACL template is {\"when\":{...},\"acl\":{\"pub\":[filters],\"sub\":[filters]}} with valid topic filters."],
    [[], 'nothing to update: give --expiration, --url, --acl-pub/--acl-sub or a policy option (see --help)'],
  ])('refuses `broker update demo %j` before any request with one line, exit 1', async (args, message) => {
    idp.hits.clear()
    expect(await cli(['broker', 'update', 'demo', ...args])).toEqual({ code: 1, stdout: '', stderr: `mqtt-oidc: ${message}\n` })
    expect([...idp.hits.keys()]).toEqual([])
  })

  it('prints the exchange\'s refusal in one line, exit 1 (update of an unknown broker)', async () => {
    expect(await cli(['broker', 'update', 'nope', '--profile', 'emqx']))
      .toEqual({ code: 1, stdout: '', stderr: 'mqtt-oidc: admin API error: not_found (unknown broker "nope")\n' })
  })
})

describe('mqtt-oidc broker issue: --acl-pub/--acl-sub, --username, --not-before', () => {
  it('issues with the given ACL (the other side empty), username, and nbf a duration from now', async () => {
    const map = ok(await cli(['broker', 'issue', 'demo', '--client-id', 'c1', '--acl-pub', 'sensors/${clientid}/#', '--username', 'u1', '--not-before', '10m', '--expiration', '1h']))
    const claims = decodeJwt(map.c1 as string)
    expect(claims).toMatchObject({ sub: 'c1', username: 'u1', acl: { pub: ['sensors/${clientid}/#'], sub: [] } })
    expect(claims).not.toHaveProperty('topicAcl')
    expect(claims.nbf! - claims.iat!).toBe(600)
    expect(claims.exp! - claims.nbf!).toBe(3600)
  })

  it('takes an ISO 8601 time or epoch seconds for --not-before; without --acl-* the ACL is # both ways', async () => {
    // A whole day 30 days ahead: the exchange takes a notBefore up to 365 days ahead.
    const day = (Math.floor(Date.now() / 86_400_000) + 30) * 86400
    const iso = decodeJwt(ok(await cli(['broker', 'issue', 'demo', '--client-id', 'c2', '--not-before', new Date(day * 1000).toISOString()])).c2 as string)
    expect(iso).toMatchObject({ nbf: day, acl: { pub: ['#'], sub: ['#'] }, topicAcl: '#' })
    const epoch = decodeJwt(ok(await cli(['broker', 'issue', 'demo', '--client-id', 'c3', '--not-before', String(day + 60), '--acl-sub', 'news/#'])).c3 as string)
    expect(epoch).toMatchObject({ nbf: day + 60, acl: { pub: [], sub: ['news/#'] } })
  })

  it('issues for a rabbitmq-profile broker with its shape (RS256, aud = resource server id, scope)', async () => {
    await admin.createBroker('rmq', { policy: { profile: 'rabbitmq' } })
    const token = ok(await cli(['broker', 'issue', 'rmq', '--client-id', 'r1', '--acl-pub', 'devices/${clientid}/#'])).r1 as string
    expect(decodeProtectedHeader(token).alg).toBe('RS256')
    expect(decodeJwt(token)).toMatchObject({ aud: 'rmq', scope: 'rmq.write:*/amq.topic rmq.write:*/*/devices.r1.*' })
  })

  it('refuses a --not-before that is neither a duration, a time nor epoch seconds', async () => {
    expect(await cli(['broker', 'issue', 'demo', '--not-before', 'tomorrow'])).toEqual({
      code: 1, stdout: '',
      stderr: "mqtt-oidc: option '--not-before <time|duration>' argument 'tomorrow' is invalid. use a duration from now (10m, 2h, 1d), an ISO 8601 time (2030-01-01T00:00:00Z) or epoch seconds.\n",
    })
  })
})

describe('mqtt-oidc broker delete', () => {
  it('refuses to delete a broker with live credentials without --force, saying how many and what would happen', async () => {
    await admin.createBroker('site-x')
    await admin.issueCredentials('site-x', { clientIds: ['x1', 'x2'] })
    expect(await cli(['broker', 'delete', 'site-x'])).toEqual({
      code: 1, stdout: '',
      stderr: 'mqtt-oidc: broker "site-x" has 2 live credentials (not expired, not revoked): deleting it revokes them all, which closes their ' +
        'sessions, and they stay refused until they expire, even if a broker "site-x" is created again. Nothing was changed; confirm with force. ' +
        'Run `mqtt-oidc broker delete site-x --force` to delete it.\n',
    })
    expect(await admin.getBroker('site-x')).toMatchObject({ id: 'site-x' })

    expect(await cli(['broker', 'delete', 'site-x', '--force'])).toEqual({
      code: 0, stdout: '', stderr: 'Deleted broker site-x and revoked its 2 live credentials: they stay refused until they expire.\n',
    })
    expect((await admin.listRevocations('site-x').catch((err: { status?: number }) => err.status))).toBe(404)
  })

  it('deletes a broker without live credentials at once; --json prints what it did', async () => {
    await admin.createBroker('site-y')
    expect(ok(await cli(['broker', 'delete', 'site-y', '--json']))).toEqual({ id: 'site-y', deleted: true, revoked: 0 })
  })
})

describe('mqtt-oidc broker feed-credential', () => {
  it('prints the broker\'s feed credential once, or writes it to a 0600 file, and the feed reads with the latest only', async () => {
    const printed = ok(await cli(['broker', 'feed-credential', 'demo']))
    expect(printed).toEqual({ broker: 'demo', feedCredential: expect.stringMatching(/^mqof_[A-Za-z0-9_-]{43}$/) })
    const file = join(dir, 'feed', 'demo')
    expect(ok(await cli(['broker', 'feed-credential', 'demo', '--out', file]))).toEqual({ broker: 'demo', file })
    expect(statSync(file).mode & 0o777).toBe(0o600)
    const read = (credential: string): Promise<number> =>
      fetch(`${exchangeUrl}/brokers/demo/revocations`, { headers: { authorization: `Bearer ${credential}` } }).then((r) => r.status)
    expect(await read(readFileSync(file, 'utf8').trim())).toBe(200)
    expect(await read(printed.feedCredential as string)).toBe(401)
  })
})
