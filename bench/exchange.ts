/**
 * `pnpm bench:exchange`: RFC 8693 token exchanges per second over HTTP on
 * loopback (ID token verify + broker token sign + durable credential record +
 * a log line), beside a baseline of a bare express endpoint doing one EdDSA
 * sign, measured in the same run with the same load (the same request bodies,
 * the same concurrency). A third server, the floor, does the same as the
 * baseline on bare node:http: what the exchange costs above it is what the
 * exchange itself adds. They alternate in short rounds (baseline, floor,
 * exchange, baseline, ...) so a change in background load hits all alike.
 * Every failed request (a non-200 answer or no answer at all) is counted and
 * printed, and fails the run.
 *
 * Target: exchanges/s at least 0.8x the baseline's, or server CPU per
 * exchange at most the baseline's + 100 µs (CPU per request moves far less
 * with other load on the machine than requests per second do).
 *
 * Prints figures, then one JSON line; exits 1 when a request failed or the
 * target was missed.
 *
 * Env: BENCH_SECONDS (measured seconds per side, default 6), BENCH_ROUNDS
 * (default 6), BENCH_CONCURRENCY (default 32), BENCH_PROFILE (a directory:
 * the servers write V8 CPU profiles there), BENCH_STORE_DIR (where the
 * exchange's SQLite file goes; default the temp dir; /dev/shm shows the
 * figures without the disk's fsync).
 */
import { fork } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'
import { runLoad, summarize } from './exchange-load.js'
import type { LoadOptions, LoadResult, LoadRun } from './exchange-load.js'

const SECONDS = Number(process.env.BENCH_SECONDS ?? 6)
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 6)
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 32)
const PROFILE = process.env.BENCH_PROFILE
const TARGET_RATIO = 0.8
const TARGET_EXTRA_CPU_MICROS = 100

interface Server {
  readonly child: ChildProcess
  readonly load: Omit<LoadOptions, 'durationMs'>
}

type Mode = 'baseline' | 'floor' | 'exchange'

/** Starts one server; every server gets the exchange's request bodies (`bodies`), so all see the same bytes. */
async function startServer(mode: Mode, bodies?: readonly string[]): Promise<Server> {
  const child = fork(fileURLToPath(new URL('./exchange-server.ts', import.meta.url)), [mode], {
    execArgv: ['--conditions=@mqtt-oidc/source', '--import', 'tsx', ...(PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${PROFILE}`] : [])],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  })
  const [info] = (await once(child, 'message')) as [{ url: string; bodies: string[] }]
  const load = { url: info.url, bodies: bodies ?? info.bodies, concurrency: CONCURRENCY }
  const warm = summarize([await runLoad({ ...load, durationMs: 1500 })]) // warm-up: JIT, JWKS fetch, key import
  if (warm.errors > 0) throw new Error(`${mode} failed during warm-up: ${JSON.stringify(warm.errorKinds)}`)
  return { child, load }
}

async function cpuMicros(server: Server): Promise<number> {
  const reply = once(server.child, 'message')
  server.child.send('cpu')
  const [{ cpu }] = (await reply) as [{ cpu: NodeJS.CpuUsage }]
  return cpu.user + cpu.system
}

async function stopServer({ child }: Server): Promise<void> {
  const exited = once(child, 'exit')
  child.kill(PROFILE ? 'SIGINT' : 'SIGKILL')
  await exited
}

const line = (name: string, r: LoadResult): string =>
  `${name.padEnd(26)} ${r.rps.toFixed(1).padStart(8)} req/s   p50 ${r.p50.toFixed(2)} ms   p99 ${r.p99.toFixed(2)} ms   ` +
  `(${r.requests} ok, ${r.errors} failed${r.errors > 0 ? `: ${JSON.stringify(r.errorKinds)}` : ''})`

const exchangeServer = await startServer('exchange')
const servers: Record<Mode, Server> = {
  baseline: await startServer('baseline', exchangeServer.load.bodies),
  floor: await startServer('floor', exchangeServer.load.bodies),
  exchange: exchangeServer,
}
const runs: Record<Mode, LoadRun[]> = { baseline: [], floor: [], exchange: [] }
const cpu: Record<Mode, number> = { baseline: 0, floor: 0, exchange: 0 }
try {
  for (let round = 0; round < ROUNDS; round++) {
    for (const name of ['baseline', 'floor', 'exchange'] as const) {
      const before = await cpuMicros(servers[name])
      runs[name].push(await runLoad({ ...servers[name].load, durationMs: (SECONDS * 1000) / ROUNDS }))
      cpu[name] += (await cpuMicros(servers[name])) - before
    }
  }
} finally {
  await Promise.all(Object.values(servers).map(stopServer))
}
const baseline = summarize(runs.baseline)
const floor = summarize(runs.floor)
const exchange = summarize(runs.exchange)
const ratio = Math.round((exchange.rps / baseline.rps) * 1000) / 1000
// CPU over every request the server handled, failed ones included (they cost CPU too).
const perRequest = (mode: Mode, r: LoadResult): number => Math.round(cpu[mode] / Math.max(1, r.requests + r.errors))
const cpuPerRequest = { baseline: perRequest('baseline', baseline), floor: perRequest('floor', floor), exchange: perRequest('exchange', exchange) }
const extraCpu = cpuPerRequest.exchange - cpuPerRequest.baseline
const aboveFloor = cpuPerRequest.exchange - cpuPerRequest.floor
const errors = baseline.errors + floor.errors + exchange.errors
const targetMet = ratio >= TARGET_RATIO || extraCpu <= TARGET_EXTRA_CPU_MICROS
const ok = errors === 0 && targetMet
console.log(`concurrency ${CONCURRENCY}, ${SECONDS} s per side in ${ROUNDS} alternating rounds, loopback HTTP/1.1 keep-alive`)
console.log(line('baseline (express + EdDSA)', baseline))
console.log(line('floor (node:http + EdDSA)', floor))
console.log(line('exchange POST /token', exchange))
console.log(`server CPU per request: baseline ${cpuPerRequest.baseline} µs, floor ${cpuPerRequest.floor} µs, exchange ${cpuPerRequest.exchange} µs`)
console.log(
  `exchange - baseline = ${extraCpu >= 0 ? '+' : ''}${extraCpu} µs (target <= +${TARGET_EXTRA_CPU_MICROS} µs); exchange - floor = ${aboveFloor >= 0 ? '+' : ''}${aboveFloor} µs`,
)
console.log(`exchange / baseline = ${(ratio * 100).toFixed(1)}% (target >= ${TARGET_RATIO * 100}%)`)
console.log(errors > 0 ? `FAILED: ${errors} requests failed` : targetMet ? 'target met' : 'BELOW TARGET on both counts')
console.log(
  JSON.stringify({
    bench: 'exchange',
    concurrency: CONCURRENCY,
    seconds: SECONDS,
    rounds: ROUNDS,
    store: process.env.BENCH_STORE_DIR ?? 'tmpdir',
    baseline,
    floor,
    exchange,
    ratio,
    floorRatio: Math.round((exchange.rps / floor.rps) * 1000) / 1000,
    cpuPerRequestMicros: cpuPerRequest,
    extraCpuMicros: extraCpu,
    aboveFloorCpuMicros: aboveFloor,
    errors,
    target: { ratio: TARGET_RATIO, extraCpuMicros: TARGET_EXTRA_CPU_MICROS },
    ok,
  }),
)
process.exitCode = ok ? 0 : 1
