/**
 * Child process of bench/exchange.ts: `exchange` runs the real exchange (with
 * a throwaway IdP and SQLite file), `baseline` a bare express endpoint that
 * does one EdDSA sign, `floor` the same on bare node:http. Reports
 * `{url, bodies}` to the parent over IPC.
 */
import { createServer } from 'node:http'
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { generateKeyPairSync, sign } from 'node:crypto'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import express from 'express'
import { pino } from 'pino'
import { TOKEN_EXCHANGE_GRANT } from '@mqtt-oidc/core'
import { createSqliteStore } from '@mqtt-oidc/store'
import { REDACT_PATHS, createExchange, ensureBroker } from '@mqtt-oidc/exchange'
import { startBenchIdp } from './lib/bench-idp.js'

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
}

/**
 * The exchange as `pnpm start` runs it: the SQLite store, its defaults, and a
 * pino logger at info writing its line per exchange (to a file here, not the
 * terminal). Only the per-subject limit is raised, above anything this load
 * reaches (256 subjects at thousands of exchanges/s), so its bookkeeping is
 * measured without refusing anyone.
 */
async function startExchangeServer(): Promise<{ url: string; bodies: string[] }> {
  const idp = await startBenchIdp()
  // BENCH_STORE_DIR=/dev/shm puts the store on tmpfs, where fsync is free: the figures without the disk.
  const dir = mkdtempSync(join(process.env.BENCH_STORE_DIR ?? tmpdir(), 'mqtt-oidc-bench-'))
  const store = createSqliteStore(join(dir, 'exchange.sqlite'))
  await ensureBroker(store, { id: 'demo' })
  const logger = pino({ name: 'exchange', level: 'info', redact: REDACT_PATHS }, pino.destination(join(dir, 'exchange.log')))
  const exchange = createExchange({
    store, idp: { issuer: idp.issuer }, logger, subjectRateLimit: { requests: 1_000_000_000, windowSeconds: 60 },
  })
  const { url } = await exchange.listen()
  return { url: `${url}/token`, bodies: idp.bodies }
}

/** The baseline: express + the same form parser + one Ed25519 JWS, nothing else. */
async function startBaselineServer(): Promise<{ url: string; bodies: string[] }> {
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
  const url = await listen(createServer(app))
  const bodies = [new URLSearchParams({ grant_type: TOKEN_EXCHANGE_GRANT, audience: 'demo' }).toString()]
  return { url: `${url}/token`, bodies }
}

/**
 * The floor: node:http, the same form read and one Ed25519 JWS, no framework.
 * Not the target's baseline; it shows what the exchange costs above the
 * least any HTTP endpoint that signs a token can cost.
 */
async function startFloorServer(): Promise<{ url: string; bodies: string[] }> {
  const { privateKey } = generateKeyPairSync('ed25519')
  const header = Buffer.from(JSON.stringify({ alg: 'EdDSA', kid: 'bench', typ: 'mqtt-broker+jwt' })).toString('base64url')
  const server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => {
      new URLSearchParams(Buffer.concat(chunks).toString('utf8'))
      const now = Math.floor(Date.now() / 1000)
      const payload = Buffer.from(JSON.stringify({ iss: 'bench', aud: 'demo', sub: 'gateway', iat: now, exp: now + 3600 })).toString('base64url')
      const input = `${header}.${payload}`
      const body = JSON.stringify({ access_token: `${input}.${sign(null, Buffer.from(input), privateKey).toString('base64url')}` })
      res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) })
      res.end(body)
    })
  })
  const url = await listen(server)
  return { url: `${url}/token`, bodies: [new URLSearchParams({ grant_type: TOKEN_EXCHANGE_GRANT, audience: 'demo' }).toString()] }
}

const mode = process.argv[2]
const started = mode === 'exchange' ? startExchangeServer() : mode === 'floor' ? startFloorServer() : startBaselineServer()
started.then((info) => process.send?.(info), (err: unknown) => {
  console.error(err)
  process.exit(1)
})
// The parent asks for this process's CPU time around each run: CPU per request is far less
// sensitive to other load on the machine than requests per second.
process.on('message', (msg) => { if (msg === 'cpu') process.send?.({ cpu: process.cpuUsage() }) })
// A clean exit on SIGINT, so `--cpu-prof` (BENCH_PROFILE) gets to write its profile.
process.on('SIGINT', () => process.exit(0))
