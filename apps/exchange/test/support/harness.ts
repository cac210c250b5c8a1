import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pino } from 'pino'
import { createSqliteStore } from '@mqtt-oidc/store'
import type { Store } from '@mqtt-oidc/core'
import { createExchange } from '../../src/create-exchange.js'
import type { Exchange, ExchangeOptions } from '../../src/create-exchange.js'
import type { TestIdp } from '@mqtt-oidc/test-support/test-idp'

export interface Running {
  readonly url: string
  readonly exchange: Exchange
  readonly store: Store
  readonly dir: string
  /** A valid admin access token for this exchange. */
  readonly admin: string
  /** fetch with the admin token and a JSON body. */
  api(method: string, path: string, body?: unknown, token?: string): Promise<Response>
  /** POST /token with a form. */
  exchangeToken(form: Record<string, string>): Promise<Response>
  /** Stops the exchange (and closes the store unless keepStore). */
  close(opts?: { keepStore?: boolean }): Promise<void>
}

/** Starts an exchange on 127.0.0.1:0 with a fresh SQLite file (or `dir`'s) and a `demo` broker check left to the test. */
export async function startExchange(idp: TestIdp, options: Partial<ExchangeOptions> & { dir?: string } = {}): Promise<Running> {
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'mqtt-oidc-exchange-'))
  const store = options.store ?? createSqliteStore(join(dir, 'exchange.sqlite'))
  const exchange = createExchange({ logger: pino({ level: 'silent' }), ...options, store, idp: options.idp ?? { issuer: idp.issuer } })
  const { url } = await exchange.listen()
  const admin = await idp.accessToken(exchange.issuer)
  const api = (method: string, path: string, body?: unknown, token = admin): Promise<Response> =>
    fetch(`${url}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    })
  const exchangeToken = (form: Record<string, string>): Promise<Response> =>
    fetch(`${url}/token`, { method: 'POST', body: new URLSearchParams(form) })
  return {
    url, exchange, store, dir, admin, api, exchangeToken,
    async close(opts = {}) {
      await exchange.close()
      if (!opts.keepStore) {
        await store.close()
        if (!options.dir) rmSync(dir, { recursive: true, force: true })
      }
    },
  }
}
