/**
 * `pnpm bench:scale`: the exchange on PostgreSQL (a server this script
 * starts), one instance against two (child processes sharing the database):
 * token exchanges per second with the load on instance A alone, then split
 * over A and B, alternating in short rounds (A, A+B, A, A+B, ...) so a change
 * in background load hits both setups alike. Then revocations made through
 * A's admin API over HTTP (admin token check, transaction, NOTIFY), timed
 * until B's revocation stream carries them, as a broker following B sees
 * them. Every failed request (a non-200 answer or no answer) is counted and
 * printed, and fails the run. Prints figures, then one JSON line; exits 1 on
 * any failure.
 *
 * Env: BENCH_SECONDS (measured seconds per setup, default 6), BENCH_ROUNDS
 * (default 6), BENCH_CONCURRENCY (default 32), BENCH_REVOCATIONS (default 200).
 */
import { fork } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'
import { decodeJwt } from 'jose'
import { createSseParser } from '@mqtt-oidc/broker-auth'
import { startPostgres } from '@mqtt-oidc/test-support/start-postgres'
import { runLoad, summarize } from './exchange-load.js'
import { startBenchIdp } from './lib/bench-idp.js'
import { percentile } from './lib/broker-token-fixture.js'
import type { LoadResult, LoadRun } from './exchange-load.js'

const SECONDS = Number(process.env.BENCH_SECONDS ?? 6)
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 6)
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 32)
const REVOCATIONS = Number(process.env.BENCH_REVOCATIONS ?? 200)
const ISSUER = 'http://exchange.bench.invalid'

async function startExchange(storeUrl: string, idpIssuer: string): Promise<{ child: ChildProcess; url: string }> {
  const child = fork(fileURLToPath(new URL('./scale-exchange.ts', import.meta.url)), [storeUrl, idpIssuer, ISSUER], {
    execArgv: ['--conditions=@mqtt-oidc/source', '--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  })
  const [{ url }] = (await once(child, 'message')) as [{ url: string }]
  return { child, url }
}

/** One round: `CONCURRENCY` requests in flight, split evenly over `urls`, for `ms`; each instance's run. */
function round(urls: readonly string[], bodies: string[], ms: number): Promise<LoadRun[]> {
  const per = Math.max(1, Math.floor(CONCURRENCY / urls.length))
  return Promise.all(urls.map((u) => runLoad({ url: `${u}/token`, bodies, concurrency: per, durationMs: ms })))
}

/** Exchanges/s over rounds; instances ran concurrently within a round, so their rates add up. */
function rate(rounds: readonly LoadRun[][]): LoadResult {
  const merged = summarize(rounds.flat())
  const seconds = rounds.reduce((sum, runs) => sum + Math.max(...runs.map((r) => r.seconds)), 0)
  return { ...merged, seconds: Math.round(seconds * 100) / 100, rps: Math.round((merged.requests / seconds) * 10) / 10 }
}

/** Follows instance `url`'s SSE stream; resolves a jti's arrival time. */
function follow(url: string, feedCredential: string): { arrived(jti: string): Promise<number>; ready: Promise<void>; stop(): void } {
  const waiting = new Map<string, (t: number) => void>()
  const controller = new AbortController()
  let markReady: () => void = () => {}
  const ready = new Promise<void>((resolve) => {
    markReady = resolve
  })
  void (async () => {
    const res = await fetch(`${url}/brokers/demo/revocations/stream`, { headers: { authorization: `Bearer ${feedCredential}` }, signal: controller.signal })
    const decoder = new TextDecoder()
    const parser = createSseParser()
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      const text = decoder.decode(chunk, { stream: true })
      // The exchange's first line, a comment, says the stream is live; it carries no event.
      if (text.includes(': connected')) markReady()
      for (const event of parser.push(text)) waiting.get((JSON.parse(event.data) as { jti: string }).jti)?.(performance.now())
    }
  })().catch(() => {})
  return {
    ready,
    arrived: (jti) => new Promise<number>((resolve) => waiting.set(jti, resolve)),
    stop: () => controller.abort(),
  }
}

const pct = (values: number[], q: number): number => (values.length === 0 ? 0 : Math.round(percentile(values, q * 100) * 100) / 100)

const pg = await startPostgres()
const idp = await startBenchIdp()
const children: ChildProcess[] = []
let ok = false
try {
  const storeUrl = await pg.createDatabase()
  const a = await startExchange(storeUrl, idp.issuer)
  children.push(a.child)
  const b = await startExchange(storeUrl, idp.issuer)
  children.push(b.child)
  await round([a.url, b.url], idp.bodies, 1500) // warm-up: JIT, JWKS fetch, pools

  const one: LoadRun[][] = []
  const two: LoadRun[][] = []
  for (let i = 0; i < ROUNDS; i++) {
    one.push(await round([a.url], idp.bodies, (SECONDS * 1000) / ROUNDS))
    two.push(await round([a.url, b.url], idp.bodies, (SECONDS * 1000) / ROUNDS))
  }
  const oneRate = rate(one)
  const twoRate = rate(two)

  // Revocations through A's admin API, each timed until B's stream carries it.
  const tokens: string[] = []
  const issueErrors: Record<string, number> = {}
  for (let i = 0; tokens.length < REVOCATIONS && i < REVOCATIONS * 2; i++) {
    const res = await fetch(`${a.url}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: idp.bodies[i % idp.bodies.length],
    })
    if (res.status === 200) tokens.push(((await res.json()) as { access_token: string }).access_token)
    else issueErrors[`HTTP ${res.status}`] = (issueErrors[`HTTP ${res.status}`] ?? 0) + 1
  }
  const admin = `Bearer ${await idp.adminToken(ISSUER)}`
  // the broker's revocation-feed credential, issued through A's admin API as `mqtt-oidc broker feed-credential` does
  const issued = await fetch(`${a.url}/admin/brokers/demo/feed-credential`, { method: 'POST', headers: { authorization: admin } })
  if (issued.status !== 201) throw new Error(`feed credential: HTTP ${issued.status}`)
  const stream = follow(b.url, ((await issued.json()) as { feedCredential: string }).feedCredential)
  await stream.ready
  const propagation: number[] = []
  const writes: number[] = []
  const revokeErrors: Record<string, number> = {}
  for (const token of tokens) {
    const jti = decodeJwt(token).jti!
    const arrived = stream.arrived(jti)
    const t0 = performance.now()
    const res = await fetch(`${a.url}/admin/brokers/demo/revocations`, {
      method: 'POST',
      headers: { authorization: admin, 'content-type': 'application/json' },
      body: JSON.stringify({ jtis: [jti] }),
    }).catch((err: Error & { cause?: { code?: string } }) => err.cause?.code ?? err.message)
    if (typeof res === 'string' || res.status !== 200) {
      const kind = typeof res === 'string' ? res : `HTTP ${res.status}`
      revokeErrors[kind] = (revokeErrors[kind] ?? 0) + 1
      continue
    }
    await res.arrayBuffer()
    writes.push(performance.now() - t0)
    propagation.push((await arrived) - t0)
  }
  stream.stop()

  const errorKinds = { ...oneRate.errorKinds }
  for (const [k, n] of Object.entries(twoRate.errorKinds)) errorKinds[k] = (errorKinds[k] ?? 0) + n
  const errors =
    oneRate.errors + twoRate.errors + Object.values(issueErrors).reduce((s, n) => s + n, 0) + Object.values(revokeErrors).reduce((s, n) => s + n, 0)
  ok = errors === 0
  const result = {
    bench: 'scale',
    store: 'postgresql',
    seconds: SECONDS,
    rounds: ROUNDS,
    concurrency: CONCURRENCY,
    exchangesPerSecond: { oneInstance: oneRate.rps, twoInstances: twoRate.rps, ratio: Math.round((twoRate.rps / oneRate.rps) * 100) / 100 },
    exchangeLatencyMs: { oneInstance: { p50: oneRate.p50, p99: oneRate.p99 }, twoInstances: { p50: twoRate.p50, p99: twoRate.p99 } },
    errors,
    errorKinds: { exchange: errorKinds, issue: issueErrors, revoke: revokeErrors },
    revocationPropagationMs: { samples: propagation.length, p50: pct(propagation, 0.5), p99: pct(propagation, 0.99), max: pct(propagation, 1) },
    revocationRequestMs: {
      p50: pct(writes, 0.5),
      p99: pct(writes, 0.99),
      mean: Math.round((writes.reduce((x, y) => x + y, 0) / Math.max(1, writes.length)) * 100) / 100,
    },
    ok,
  }
  console.log(`concurrency ${CONCURRENCY}, ${SECONDS} s per setup in ${ROUNDS} alternating rounds, PostgreSQL store`)
  console.log(`exchanges/s, 1 instance    ${oneRate.rps}   (p50 ${oneRate.p50} ms, p99 ${oneRate.p99} ms, ${oneRate.requests} ok, ${oneRate.errors} failed)`)
  console.log(
    `exchanges/s, 2 instances   ${twoRate.rps}   (p50 ${twoRate.p50} ms, p99 ${twoRate.p99} ms, ${twoRate.requests} ok, ${twoRate.errors} failed), ${result.exchangesPerSecond.ratio}x`,
  )
  console.log(
    `revocation, POST to A's admin API -> SSE event from B: p50 ${result.revocationPropagationMs.p50} ms, p99 ${result.revocationPropagationMs.p99} ms (${propagation.length} samples)`,
  )
  console.log(
    `revocation request (admin token check, transaction + NOTIFY, answer): p50 ${result.revocationRequestMs.p50} ms, mean ${result.revocationRequestMs.mean} ms`,
  )
  if (errors > 0) console.log(`FAILED: ${errors} requests failed: ${JSON.stringify(result.errorKinds)}`)
  console.log(JSON.stringify(result))
} finally {
  for (const child of children) child.kill('SIGKILL')
  idp.close()
  await pg.stop()
}
process.exit(ok ? 0 : 1)
