import { request } from 'node:http'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import * as oidc from 'openid-client'
import { pino } from 'pino'
import type { Store } from '@mqtt-oidc/core'
import { createSqliteStore } from '@mqtt-oidc/store'
import { createIdp, type Idp, type IdpOptions } from '../../src/index.js'

export const EXCHANGE_URL = 'http://127.0.0.1:4001'
export const ADMIN_SECRET = 'admin-secret-for-tests-0123456789abcdef'
export const CLI_CLIENT_ID = 'mqtt-oidc-cli'
export const SCOPE = 'openid mqtt offline_access'
export const DEVICE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code'

export interface TestIdp {
  readonly dir: string
  readonly dbPath: string
  readonly issuer: string
  readonly port: number
  store: Store
  idp: Idp
  /** openid-client configured for the public CLI client. */
  config: oidc.Configuration
  /** Closes the IdP and the store, then starts both again on the same port with the same file. */
  restart(): Promise<void>
  close(): Promise<void>
}

type Overrides = Partial<Omit<IdpOptions, 'store' | 'exchangeUrl' | 'adminClient' | 'cookieKeys'>>

/** A real IdP on 127.0.0.1 with a real SQLite file in a temp dir. */
export async function startTestIdp(overrides: Overrides = {}, setup?: (store: Store) => Promise<void>): Promise<TestIdp> {
  const dir = mkdtempSync(join(tmpdir(), 'idp-test-'))
  const dbPath = join(dir, 'idp.sqlite')
  const build = (store: Store, port: number): Idp => createIdp({
    store,
    exchangeUrl: EXCHANGE_URL,
    adminClient: { clientId: 'mqtt-oidc-admin', clientSecret: ADMIN_SECRET },
    cookieKeys: ['cookie-key-for-tests-0123456789abcdef'],
    logger: pino({ level: 'silent' }),
    devicePollInterval: 1,
    port,
    ...overrides,
  })
  let store = createSqliteStore(dbPath)
  await setup?.(store)
  let idp = build(store, 0)
  const { url: issuer, port } = await idp.listen()
  const discover = () => oidc.discovery(new URL(issuer), CLI_CLIENT_ID, undefined, oidc.None(), { execute: [oidc.allowInsecureRequests] })
  const fixture: TestIdp = {
    dir, dbPath, issuer, port, store, idp, config: await discover(),
    async restart() {
      await fixture.idp.close()
      await fixture.store.close()
      store = createSqliteStore(dbPath)
      idp = build(store, port)
      fixture.store = store
      fixture.idp = idp
      await idp.listen()
      fixture.config = await discover()
    },
    async close() {
      await fixture.idp.close()
      await fixture.store.close()
      rmSync(dir, { recursive: true, force: true })
    },
  }
  return fixture
}

export interface RawResponse { status: number; headers: Record<string, string | string[] | undefined>; text: string }

/**
 * An HTTP request sent from `localAddress` (any of 127.0.0.0/8 on Linux), so
 * that tests can play clients at different IPs against per-IP limits.
 */
export function requestFrom(localAddress: string, url: string, init: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: init.method ?? 'GET', headers: init.headers, localAddress, agent: false }, (res) => {
      let text = ''
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => { text += chunk })
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text }))
    })
    req.on('error', reject)
    req.end(init.body)
  })
}

/** POSTs a form to the token endpoint as the public CLI client. */
export async function tokenRequest(issuer: string, params: Record<string, string>): Promise<{ status: number; body: unknown }> {
  const res = await fetch(`${issuer}/token`, { method: 'POST', body: new URLSearchParams({ client_id: CLI_CLIENT_ID, ...params }) })
  return { status: res.status, body: await res.json() }
}

/** POST /device/auth as the CLI. */
export async function deviceAuthorization(issuer: string, scope = SCOPE, extra: Record<string, string> = {}): Promise<Record<string, string | number>> {
  const res = await fetch(`${issuer}/device/auth`, { method: 'POST', body: new URLSearchParams({ client_id: CLI_CLIENT_ID, scope, ...extra }) })
  if (res.status !== 200) throw new Error(`device authorization failed: ${res.status} ${await res.text()}`)
  return (await res.json()) as Record<string, string | number>
}
