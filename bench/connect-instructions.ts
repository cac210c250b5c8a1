/**
 * `pnpm bench:connect-instructions`: bench:connect's CPU question counted in
 * instructions rather than time, which the load of a shared machine does
 * not move. The same four brokers (accept-all, one raw Ed25519 verify, the
 * minimal check, JWT auth; see bench-broker.ts), each under valgrind's
 * callgrind, get the same CONNECT packets, one at a time by default
 * (`BENCH_CONCURRENCY`: with 16 in flight, how many packets each read
 * returns depends on each broker's pace, and so does the count): a warm-up
 * with counting off (JIT and caches settle), then `BENCH_CONNECTS` CONNECTs
 * counted (connect + close, until the broker has no session left). The
 * counts still move by about ±0.05x from run to run (garbage collection
 * and JIT timing), against ±0.2x for time. It prints, per CONNECT,
 * the instructions and cachegrind's cycle estimate (instructions + 10 per
 * first-level miss + 100 per last-level miss: a model, not a clock), what
 * each check adds to accept-all, and that against one raw verify (the
 * target of bench:connect, <= 1.2x). It also counts the raw verify in a
 * tight loop in the same broker. Needs valgrind (Debian: `apt-get install
 * valgrind`); about 10 minutes on two cores. Ends with one JSON line.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { callgrindArgs, callgrindControl, estimatedCycles, requireValgrind } from './lib/callgrind.js'
import { createFixture, signedParts } from './lib/broker-token-fixture.js'
import { connectAll, connectPackets } from './lib/connect-rounds.js'
import { spawnWrappedBenchBroker } from './lib/spawn-bench-broker.js'

const WARM_UP = Number(process.env.BENCH_WARM_UP ?? 6000)
const CONNECTS = Number(process.env.BENCH_CONNECTS ?? 3000)
const LOOP_VERIFIES = 300
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 1)
const CPU_TARGET = 1.2

requireValgrind()
const dir = mkdtempSync(join(tmpdir(), 'mqtt-oidc-callgrind-'))
const fixture = await createFixture()
const warmUp = connectPackets(fixture, 'u', WARM_UP)
const counted = connectPackets(fixture, 'f', CONNECTS)
const [signingInput, signature] = signedParts(fixture.token('raw'))

type Mode = 'open' | 'verify' | 'minimal' | 'jwt'
const modes: Mode[] = ['open', 'verify', 'minimal', 'jwt']
const perConnect = {} as Record<Mode, Record<string, number>>
let loopVerify: Record<string, number> = {}
const eachDividedBy = (totals: Record<string, number>, n: number): Record<string, number> =>
  Object.fromEntries(Object.entries(totals).map(([event, count]) => [event, count / n]))

// the four side by side: valgrind runs each process on one thread, and counts do not depend on the pace
await Promise.all(
  modes.map(async (mode) => {
    const outFile = join(dir, `${mode}.out`)
    const broker = await spawnWrappedBenchBroker(mode, fixture.jwks, { command: 'valgrind', args: callgrindArgs(outFile) })
    await connectAll(broker.port, warmUp, CONCURRENCY)
    await broker.drained()
    await callgrindControl(broker.pid, 'on')
    await connectAll(broker.port, counted, CONCURRENCY)
    await broker.drained()
    const totals = await callgrindControl(broker.pid, 'dump', outFile, 1)
    perConnect[mode] = eachDividedBy(totals, CONNECTS)
    if (mode === 'verify') {
      await callgrindControl(broker.pid, 'zero')
      await broker.rawVerify(LOOP_VERIFIES, signingInput, signature)
      const loop = await callgrindControl(broker.pid, 'dump', outFile, 2)
      loopVerify = eachDividedBy(loop, LOOP_VERIFIES)
    }
    await broker.stop()
  }),
)
fixture.keys.close()
rmSync(dir, { recursive: true, force: true })

const instructions = (mode: Mode): number => perConnect[mode].Ir ?? 0
const cycles = (mode: Mode): number => estimatedCycles(perConnect[mode])
const added = (measure: (m: Mode) => number, mode: Mode): number => measure(mode) - measure('open')
const ratio = (measure: (m: Mode) => number, mode: Mode): number => Math.round((added(measure, mode) / added(measure, 'verify')) * 100) / 100
const k = (n: number): string => `${(n / 1000).toFixed(1)}k`
const misses = (mode: Mode): string => {
  const t = perConnect[mode]
  const first = (t.I1mr ?? 0) + (t.D1mr ?? 0) + (t.D1mw ?? 0)
  const last = (t.ILmr ?? 0) + (t.DLmr ?? 0) + (t.DLmw ?? 0)
  return `${k(first)} first-level, ${Math.round(last)} last-level misses`
}
const names: Record<Mode, string> = {
  open: 'accept-all',
  verify: 'accept-all + one raw verify',
  minimal: 'accept-all + a minimal check',
  jwt: 'JWT auth, a new token each',
}

console.log(`CONNECT counted by callgrind: ${CONNECTS} CONNECTs per broker after ${WARM_UP} uncounted, ${CONCURRENCY} in flight (connect + close)`)
for (const mode of modes) {
  console.log(`  ${names[mode].padEnd(30)} ${k(instructions(mode)).padStart(8)} instructions  ${k(cycles(mode)).padStart(8)} est. cycles   (${misses(mode)})`)
}
console.log(`  one raw verify in a tight loop ${k(loopVerify.Ir ?? 0).padStart(8)} instructions  ${k(estimatedCycles(loopVerify)).padStart(8)} est. cycles`)
console.log('Added to accept-all, against one raw verify in a CONNECT:')
for (const mode of ['verify', 'minimal', 'jwt'] as const) {
  console.log(
    `  ${names[mode].padEnd(30)} ${k(added(instructions, mode)).padStart(8)} instructions  ${ratio(instructions, mode).toFixed(2)}x   ${k(added(cycles, mode)).padStart(8)} est. cycles  ${ratio(cycles, mode).toFixed(2)}x${mode === 'jwt' ? `   target <= ${CPU_TARGET}x` : ''}`,
  )
}
console.log('  (time on a real core also pays for branch mispredictions, and for caches as they really are; bench:connect measures that, with its noise)')
const round = (n: number): number => Math.round(n)
console.log(
  JSON.stringify({
    bench: 'connect-instructions',
    warmUp: WARM_UP,
    connects: CONNECTS,
    instructionsPerConnect: Object.fromEntries(modes.map((m) => [m, round(instructions(m))])),
    estimatedCyclesPerConnect: Object.fromEntries(modes.map((m) => [m, round(cycles(m))])),
    loopVerifyInstructions: round(loopVerify.Ir ?? 0),
    jwtInstructionRatio: ratio(instructions, 'jwt'),
    minimalInstructionRatio: ratio(instructions, 'minimal'),
    jwtCycleEstimateRatio: ratio(cycles, 'jwt'),
    minimalCycleEstimateRatio: ratio(cycles, 'minimal'),
    pass: ratio(instructions, 'jwt') <= CPU_TARGET,
  }),
)
