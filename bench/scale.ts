/**
 * `pnpm bench:scale`: the exchange on PostgreSQL with 1 and then 2 instances
 * (child processes sharing one database that this script starts): token
 * exchanges per second, revocation propagation across instances (commit by
 * one instance -> NOTIFY -> SSE event from the other instance), and the cost
 * of one revocation write. Prints figures, then one JSON line.
 *
 * Env: BENCH_SECONDS (measured seconds per setup, default 6), BENCH_CONCURRENCY
 * (default 32), BENCH_REVOCATIONS (default 200).
 */
import { fork } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'
import { decodeJwt } from 'jose'
import { openStore } from '@mqtt-oidc/core'
import { ensureFeedCredential } from '@mqtt-oidc/exchange'
import { startPostgres } from '../test/support/start-postgres.js'
import { runLoad, summarize } from './exchange-load.js'
import { startBenchIdp } from './lib/bench-idp.js'
import type { LoadResult } from './exchange-load.js'

const SECONDS = Number(process.env.BENCH_SECONDS ?? 6)
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 32)
const REVOCATIONS = Number(process.env.BENCH_REVOCATIONS ?? 200)
const ISSUER = 'http://exchange.bench.invalid'

async function startExchange(storeUrl: string, idpIssuer: string): Promise<{ child: ChildProcess; url: string }> {
  const child = fork(fileURLToPath(new URL('./scale-exchange.ts', import.meta.url)), [storeUrl, idpIssuer, ISSUER], {
    execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  })
  const [{ url }] = await once(child, 'message') as [{ url: string }]
  return { child, url }
}

/** Exchanges/s against all instances at once (the concurrency split between them). */
async function measure(urls: string[], bodies: string[]): Promise<LoadResult> {
  const per = Math.max(1, Math.floor(CONCURRENCY / urls.length))
  await Promise.all(urls.map((u) => runLoad({ url: `${u}/token`, bodies, concurrency: per, durationMs: 1500 })))
  const runs = await Promise.all(urls.map((u) => runLoad({ url: `${u}/token`, bodies, concurrency: per, durationMs: SECONDS * 1000 })))
  const merged = summarize(runs)
  // The runs were concurrent: the rate is the sum, not the mean.
  return { ...merged, rps: Math.round(runs.reduce((sum, r) => sum + r.latencies.length / r.seconds, 0) * 10) / 10 }
}

/** Follows instance `url`'s SSE stream; resolves a jti's arrival time. */
function follow(url: string, feedCredential: string): { arrived(jti: string): Promise<number>; ready: Promise<void>; stop(): void } {
  const waiting = new Map<string, (t: number) => void>()
  const controller = new AbortController()
  let markReady: () => void = () => {}
  const ready = new Promise<void>((resolve) => { markReady = resolve })
  void (async () => {
    const res = await fetch(`${url}/brokers/demo/revocations/stream`, { headers: { authorization: `Bearer ${feedCredential}` }, signal: controller.signal })
    const decoder = new TextDecoder()
    let buffer = ''
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      buffer += decoder.decode(chunk, { stream: true })
      let end: number
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const frame = buffer.slice(0, end)
        buffer = buffer.slice(end + 2)
        if (frame.startsWith(': connected')) markReady()
        const data = /^data: (.*)$/m.exec(frame)?.[1]
        if (data) waiting.get((JSON.parse(data) as { jti: string }).jti)?.(performance.now())
      }
    }
  })().catch(() => {})
  return {
    ready,
    arrived: (jti) => new Promise<number>((resolve) => waiting.set(jti, resolve)),
    stop: () => controller.abort(),
  }
}

const pct = (values: number[], q: number): number => {
  const sorted = [...values].sort((a, b) => a - b)
  return Math.round((sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0) * 100) / 100
}

const pg = await startPostgres()
const idp = await startBenchIdp()
const children: ChildProcess[] = []
try {
  const storeUrl = await pg.createDatabase()
  const first = await startExchange(storeUrl, idp.issuer)
  children.push(first.child)
  const one = await measure([first.url], idp.bodies)
  const second = await startExchange(storeUrl, idp.issuer)
  children.push(second.child)
  const two = await measure([first.url, second.url], idp.bodies)

  // Revocations committed through instance 1's path (the store, as its admin route does), seen on instance 2's stream.
  const tokens: string[] = []
  for (let i = 0; i < REVOCATIONS; i++) {
    const res = await fetch(`${first.url}/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: idp.bodies[i % idp.bodies.length] })
    tokens.push(((await res.json()) as { access_token: string }).access_token)
  }
  const store = await openStore({ url: storeUrl, dataDir: '.', file: 'unused.sqlite' })
  // the broker's feed credential, as the embedded stack issues it
  const feedDir = mkdtempSync(join(tmpdir(), 'bench-scale-feed-'))
  await ensureFeedCredential(store, 'demo', join(feedDir, 'demo'))
  const stream = follow(second.url, readFileSync(join(feedDir, 'demo'), 'utf8').trim())
  rmSync(feedDir, { recursive: true, force: true })
  await stream.ready
  const propagation: number[] = []
  const writes: number[] = []
  for (const token of tokens) {
    const jti = decodeJwt(token).jti!
    const arrived = stream.arrived(jti)
    const t0 = performance.now()
    await store.revocations.revoke('demo', [jti], Math.floor(Date.now() / 1000))
    writes.push(performance.now() - t0)
    propagation.push((await arrived) - t0)
  }
  stream.stop()
  await store.close()

  const result = {
    bench: 'scale', store: 'postgresql', seconds: SECONDS, concurrency: CONCURRENCY,
    exchangesPerSecond: { oneInstance: one.rps, twoInstances: two.rps },
    exchangeLatencyMs: { oneInstance: { p50: one.p50, p99: one.p99 }, twoInstances: { p50: two.p50, p99: two.p99 } },
    errors: one.errors + two.errors,
    revocationPropagationMs: { samples: propagation.length, p50: pct(propagation, 0.5), p99: pct(propagation, 0.99), max: pct(propagation, 1) },
    revocationWriteMs: { p50: pct(writes, 0.5), p99: pct(writes, 0.99), mean: Math.round(writes.reduce((a, b) => a + b, 0) / writes.length * 100) / 100 },
  }
  console.log(`exchanges/s, 1 instance    ${one.rps}   (p50 ${one.p50} ms, p99 ${one.p99} ms)`)
  console.log(`exchanges/s, 2 instances   ${two.rps}   (p50 ${two.p50} ms, p99 ${two.p99} ms)`)
  console.log(`revocation, commit on A -> SSE event from B: p50 ${result.revocationPropagationMs.p50} ms, p99 ${result.revocationPropagationMs.p99} ms (${propagation.length} samples)`)
  console.log(`revocation write (one jti, committed + NOTIFY): p50 ${result.revocationWriteMs.p50} ms, mean ${result.revocationWriteMs.mean} ms`)
  console.log(JSON.stringify(result))
} finally {
  for (const child of children) child.kill('SIGKILL')
  idp.close()
  await pg.stop()
}
process.exit(0)
