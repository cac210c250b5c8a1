/**
 * `pnpm bench:storm`: N clients of the client library (default 10,000, on
 * this machine) connected to aedes, then the broker restarts and they all
 * reconnect at once, with their default back-off and jitter. The same storm
 * against broker-token auth (every CONNECT verifies an Ed25519 JWT: the
 * verified-token cache died with the broker) and against accept-all aedes,
 * interleaved, in one run. Figures: time until all are connected again
 * (after the kill, and after the new broker is listening), reconnect
 * attempts, and that no client gives up. Ends with one JSON line.
 *
 *   pnpm bench:storm [--clients 10000] [--rounds 3] [--workers 2] [--down 2 (seconds the broker is down)]
 *
 * Each process holds at most N sockets (the broker N, each worker N/workers),
 * so the soft open-files limit must exceed N; below that the script raises it
 * up to the hard limit for itself and its children, or says what to do.
 */
import { execFileSync, fork, spawnSync } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { createFixture, median, percentile } from './lib/broker-token-fixture.js'
import { spawnBenchBroker, spawnDeferredBenchBroker } from './lib/spawn-bench-broker.js'
import type { BenchBroker } from './lib/spawn-bench-broker.js'
import { freePort } from '@mqtt-oidc/test-support/free-port'
import { SOURCE_EXEC_ARGV } from './soak/lib/app-process.js'

const { values } = parseArgs({
  options: {
    clients: { type: 'string', default: '10000' },
    rounds: { type: 'string', default: '3' },
    workers: { type: 'string', default: '2' },
    down: { type: 'string', default: '2' },
  },
})
const N = Number(values.clients)
/** Seconds between the old broker's exit and the new one listening: the same for both modes, so the clients' back-off is in the same state when it comes back. */
const DOWN_S = Number(values.down)
const ROUNDS = Number(values.rounds)
const WORKERS = Number(values.workers)
/** A client not back this long after the broker is is counted as given up, ms. */
const BACK_WITHIN_MS = 180_000

// --- open files: the broker holds N sockets
const needed = N + 256
const soft = Number(execFileSync('sh', ['-c', 'ulimit -Sn']).toString().trim())
if (soft < needed && process.env.BENCH_STORM_RAISED !== '1') {
  const hard = execFileSync('sh', ['-c', 'ulimit -Hn']).toString().trim()
  if (hard !== 'unlimited' && Number(hard) < needed) {
    console.error(
      `bench:storm: ${N} clients need ${needed} open files per process; the hard limit is ${hard}. Raise it (limits.conf, or ulimit -Hn as root), or use --clients ${Math.max(1, Number(hard) - 256)}.`,
    )
    process.exit(1)
  }
  console.error(`bench:storm: raising the open-files soft limit from ${soft} to ${hard} for this run`)
  const rerun = spawnSync(
    'sh',
    ['-c', `ulimit -Sn ${hard} && exec "$0" "$@"`, process.execPath, ...process.execArgv, fileURLToPath(import.meta.url), ...process.argv.slice(2)],
    { stdio: 'inherit', env: { ...process.env, BENCH_STORM_RAISED: '1' } },
  )
  process.exit(rerun.status ?? 1)
}

interface Worker {
  readonly child: ChildProcess
  next<T>(type: string): Promise<T>
}

function startWorker(): Worker {
  const child = fork(fileURLToPath(new URL('./lib/storm-clients.ts', import.meta.url)), [], {
    execArgv: [...SOURCE_EXEC_ARGV],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  })
  return {
    child,
    next: <T>(type: string): Promise<T> =>
      new Promise((resolve, reject) => {
        const on = (m: { type: string; error?: string }): void => {
          if (m.type !== type && m.type !== 'failed') return
          child.off('message', on)
          if (m.type === 'failed') reject(new Error(m.error))
          else resolve(m as T)
        }
        child.on('message', on)
      }),
  }
}

interface StormResult {
  mode: 'jwt' | 'open'
  backAfterKillMs: number
  backAfterReadyMs: number
  p50AfterReadyMs: number
  p99AfterReadyMs: number
  attempts: number
  refused: number
  gaveUp: number
}

const fixture = await createFixture()
const port = await freePort()
const tokens = Array.from({ length: N }, (_, i) => ({ clientId: `storm-${i}`, token: fixture.token(`storm-${i}`) }))
const workers = Array.from({ length: WORKERS }, startWorker)
const shares = workers.map((_, w) => tokens.filter((_, i) => i % WORKERS === w))

async function stormOnce(mode: 'jwt' | 'open'): Promise<StormResult> {
  let broker: BenchBroker = await spawnBenchBroker(mode, fixture.jwks, port)
  await Promise.all(
    workers.map((w, i) => {
      const done = w.next('connected')
      w.child.send({ type: 'connect', port, tokens: shares[i] })
      return done
    }),
  )
  for (const w of workers) w.child.send({ type: 'storm' })
  const backs = workers.map((w) => w.next<{ backAt: number[]; attempts: number; refused: number; gaveUp: number }>('back'))
  const successor = await spawnDeferredBenchBroker(mode, fixture.jwks, port)
  const killAt = Date.now()
  await broker.stop()
  await new Promise((resolve) => setTimeout(resolve, killAt + DOWN_S * 1000 - Date.now()))
  broker = await successor.listen()
  const readyAt = Date.now()
  let timer: NodeJS.Timeout | undefined
  const results = await Promise.race([
    Promise.all(backs),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${mode}: not every client was back within ${BACK_WITHIN_MS / 1000} s (given up)`)), BACK_WITHIN_MS)
    }),
  ])
  clearTimeout(timer)
  const backAt = results.flatMap((r) => r.backAt)
  const last = Math.max(...backAt)
  await Promise.all(
    workers.map((w) => {
      const done = w.next('closed')
      w.child.send({ type: 'close' })
      return done
    }),
  )
  await broker.stop()
  const afterReady = backAt.map((t) => t - readyAt)
  return {
    mode,
    backAfterKillMs: last - killAt,
    backAfterReadyMs: last - readyAt,
    p50AfterReadyMs: percentile(afterReady, 50),
    p99AfterReadyMs: percentile(afterReady, 99),
    attempts: results.reduce((n, r) => n + r.attempts, 0),
    refused: results.reduce((n, r) => n + r.refused, 0),
    gaveUp: results.reduce((n, r) => n + r.gaveUp, 0),
  }
}

console.log(
  `Reconnect storm: ${N} clients (client library, default back-off with jitter) in ${WORKERS} worker processes; the broker exits and a new one listens ${DOWN_S} s later; ${ROUNDS} round(s) of JWT auth then accept-all`,
)
const all: StormResult[] = []
for (let round = 0; round < ROUNDS; round++) {
  for (const mode of ['jwt', 'open'] as const) {
    const r = await stormOnce(mode)
    all.push(r)
    console.log(
      `  ${mode.padEnd(4)} all ${N} back ${r.backAfterKillMs} ms after the kill, ${r.backAfterReadyMs} ms after the new broker listened; per client after listen p50 ${r.p50AfterReadyMs} ms, p99 ${r.p99AfterReadyMs} ms; ${r.attempts} reconnect attempts (${(r.attempts / N).toFixed(1)} per client), ${r.refused} refused, ${r.gaveUp} gave up`,
    )
  }
}
for (const w of workers) w.child.kill()
fixture.keys.close()
const of = (mode: 'jwt' | 'open', k: keyof StormResult): number => median(all.filter((r) => r.mode === mode).map((r) => r[k] as number))
const jwtBack = of('jwt', 'backAfterReadyMs')
const openBack = of('open', 'backAfterReadyMs')
const ratio = Math.round((jwtBack / openBack) * 100) / 100
const gaveUp = all.reduce((n, r) => n + r.gaveUp, 0)
const refused = all.reduce((n, r) => n + r.refused, 0)
console.log(
  `Median over rounds, whole fleet back after the new broker listened: JWT ${jwtBack} ms, accept-all ${openBack} ms (${ratio}x); clients that gave up: ${gaveUp}; CONNACK refusals: ${refused}`,
)
console.log(
  JSON.stringify({
    bench: 'storm',
    clients: N,
    rounds: ROUNDS,
    workers: WORKERS,
    downS: DOWN_S,
    jwtBackAfterReadyMs: jwtBack,
    openBackAfterReadyMs: openBack,
    ratio,
    jwtBackAfterKillMs: of('jwt', 'backAfterKillMs'),
    openBackAfterKillMs: of('open', 'backAfterKillMs'),
    jwtP99AfterReadyMs: of('jwt', 'p99AfterReadyMs'),
    openP99AfterReadyMs: of('open', 'p99AfterReadyMs'),
    attemptsPerClient: Math.round((all.reduce((n, r) => n + r.attempts, 0) / (N * all.length)) * 10) / 10,
    gaveUp,
    refused,
    pass: gaveUp === 0 && refused === 0,
  }),
)
process.exit(gaveUp === 0 && refused === 0 ? 0 : 1)
