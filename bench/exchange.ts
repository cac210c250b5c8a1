/**
 * `pnpm bench:exchange`: RFC 8693 token exchanges per second over HTTP on
 * loopback (ID token verify + broker token sign + durable credential record),
 * beside a baseline of a bare express endpoint doing one EdDSA sign, measured
 * in the same run with the same load. The two alternate in short rounds so a
 * change in background load hits both alike. Prints figures, then one JSON line.
 *
 * Env: BENCH_SECONDS (measured seconds per side, default 6), BENCH_ROUNDS
 * (default 3), BENCH_CONCURRENCY (default 32), BENCH_PROFILE (a directory:
 * the servers write V8 CPU profiles there).
 */
import { fork } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'
import { runLoad, summarize } from './exchange-load.js'
import type { LoadOptions, LoadResult, LoadRun } from './exchange-load.js'

const SECONDS = Number(process.env.BENCH_SECONDS ?? 6)
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3)
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 32)
const PROFILE = process.env.BENCH_PROFILE
const TARGET = 0.6

interface Server { readonly child: ChildProcess; readonly load: Omit<LoadOptions, 'durationMs'> }

async function startServer(mode: 'exchange' | 'baseline'): Promise<Server> {
  const child = fork(fileURLToPath(new URL('./exchange-server.ts', import.meta.url)), [mode], {
    execArgv: ['--conditions=@mqtt-oidc/source', '--import', 'tsx', ...(PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${PROFILE}`] : [])],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  })
  const [info] = await once(child, 'message') as [{ url: string; bodies: string[] }]
  const load = { ...info, concurrency: CONCURRENCY }
  await runLoad({ ...load, durationMs: 1500 }) // warm-up: JIT, JWKS fetch, key import
  return { child, load }
}

async function cpuMicros(server: Server): Promise<number> {
  const reply = once(server.child, 'message')
  server.child.send('cpu')
  const [{ cpu }] = await reply as [{ cpu: NodeJS.CpuUsage }]
  return cpu.user + cpu.system
}

async function stopServer({ child }: Server): Promise<void> {
  const exited = once(child, 'exit')
  child.kill(PROFILE ? 'SIGINT' : 'SIGKILL')
  await exited
}

const line = (name: string, r: LoadResult): string =>
  `${name.padEnd(26)} ${r.rps.toFixed(1).padStart(8)} req/s   p50 ${r.p50.toFixed(2)} ms   p99 ${r.p99.toFixed(2)} ms   (${r.requests} requests, ${r.errors} errors)`

const servers = { baseline: await startServer('baseline'), exchange: await startServer('exchange') }
const runs: Record<keyof typeof servers, LoadRun[]> = { baseline: [], exchange: [] }
const cpu: Record<keyof typeof servers, number> = { baseline: 0, exchange: 0 }
try {
  for (let round = 0; round < ROUNDS; round++) {
    for (const name of ['baseline', 'exchange'] as const) {
      const before = await cpuMicros(servers[name])
      runs[name].push(await runLoad({ ...servers[name].load, durationMs: (SECONDS * 1000) / ROUNDS }))
      cpu[name] += (await cpuMicros(servers[name])) - before
    }
  }
} finally {
  await Promise.all(Object.values(servers).map(stopServer))
}
const baseline = summarize(runs.baseline)
const exchange = summarize(runs.exchange)
const ratio = Math.round((exchange.rps / baseline.rps) * 1000) / 1000
const cpuPerRequest = {
  baseline: Math.round(cpu.baseline / baseline.requests), exchange: Math.round(cpu.exchange / exchange.requests),
}
const cpuRatio = Math.round((cpuPerRequest.baseline / cpuPerRequest.exchange) * 1000) / 1000
console.log(`concurrency ${CONCURRENCY}, ${SECONDS} s per side in ${ROUNDS} alternating rounds, loopback HTTP/1.1 keep-alive`)
console.log(line('baseline (express + EdDSA)', baseline))
console.log(line('exchange POST /token', exchange))
console.log(`server CPU per request: baseline ${cpuPerRequest.baseline} µs, exchange ${cpuPerRequest.exchange} µs (CPU-bound throughput ratio ${(cpuRatio * 100).toFixed(1)}%)`)
console.log(`exchange / baseline = ${(ratio * 100).toFixed(1)}% (target >= ${TARGET * 100}%)${ratio >= TARGET ? '' : '  BELOW TARGET'}`)
console.log(JSON.stringify({
  bench: 'exchange', concurrency: CONCURRENCY, seconds: SECONDS, rounds: ROUNDS, baseline, exchange, ratio,
  cpuPerRequestMicros: cpuPerRequest, cpuRatio, target: TARGET, ok: ratio >= TARGET,
}))
