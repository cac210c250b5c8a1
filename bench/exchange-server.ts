/**
 * Child process of bench/exchange.ts: `exchange` runs the real exchange (with
 * a throwaway IdP and SQLite file), `baseline` a bare express endpoint that
 * does one EdDSA sign. Reports `{url, bodies}` to the parent over IPC.
 */
import { createServer } from 'node:http'
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { generateKeyPairSync, sign } from 'node:crypto'
import { createRequire } from 'node:module'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pino } from 'pino'
import { TOKEN_EXCHANGE_GRANT, createSqliteStore } from '@mqtt-oidc/core'
import { createExchange, ensureBroker } from '@mqtt-oidc/exchange'
import { startBenchIdp } from './lib/bench-idp.js'


async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
}

async function startExchangeServer(): Promise<{ url: string; bodies: string[] }> {
  const idp = await startBenchIdp()
  const store = createSqliteStore(join(mkdtempSync(join(tmpdir(), 'mqtt-oidc-bench-')), 'exchange.sqlite'))
  await ensureBroker(store, { id: 'demo' })
  const exchange = createExchange({ store, idp: { issuer: idp.issuer }, logger: pino({ level: 'silent' }) })
  const { url } = await exchange.listen()
  return { url: `${url}/token`, bodies: idp.bodies }
}

interface MiniExpress {
  (): { use(h: unknown): void; post(path: string, h: (req: unknown, res: { json(v: unknown): void }) => void): void }
  urlencoded(o: { extended: boolean }): unknown
}

/** The baseline: express + the same form parser + one Ed25519 JWS, nothing else. */
async function startBaselineServer(): Promise<{ url: string; bodies: string[] }> {
  // express is a dependency of apps/exchange, not of the workspace root.
  const express = createRequire(new URL('../apps/exchange/package.json', import.meta.url))('express') as MiniExpress
  const { privateKey } = generateKeyPairSync('ed25519')
  const header = Buffer.from(JSON.stringify({ alg: 'EdDSA', kid: 'bench', typ: 'mqtt-broker+jwt' })).toString('base64url')
  const app = express()
  app.use(express.urlencoded({ extended: false }))
  app.post('/token', (_req, res) => {
    const now = Math.floor(Date.now() / 1000)
    const payload = Buffer.from(JSON.stringify({ iss: 'bench', aud: 'demo', sub: 'gateway', iat: now, exp: now + 3600 })).toString('base64url')
    const input = `${header}.${payload}`
    res.json({ access_token: `${input}.${sign(null, Buffer.from(input), privateKey).toString('base64url')}` })
  })
  const url = await listen(createServer(app as never))
  const bodies = [new URLSearchParams({ grant_type: TOKEN_EXCHANGE_GRANT, audience: 'demo' }).toString()]
  return { url: `${url}/token`, bodies }
}

const mode = process.argv[2]
const started = mode === 'exchange' ? startExchangeServer() : startBaselineServer()
started.then((info) => process.send?.(info), (err: unknown) => {
  console.error(err)
  process.exit(1)
})
// The parent asks for this process's CPU time around each run: CPU per request is far less
// sensitive to other load on the machine than requests per second.
process.on('message', (msg) => { if (msg === 'cpu') process.send?.({ cpu: process.cpuUsage() }) })
// A clean exit on SIGINT, so `--cpu-prof` (BENCH_PROFILE) gets to write its profile.
process.on('SIGINT', () => process.exit(0))
