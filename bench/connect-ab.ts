/**
 * `BASE=<checkout> pnpm bench:connect-ab`: the CPU the JWT broker adds to a
 * CONNECT in another checkout of this repository (built, with its
 * dependencies installed: e.g. `git worktree add ../base <commit>`, then
 * `node scripts/setup.mjs --build` there) against this one, in the same
 * interleaved rounds as `bench:connect` (accept-all and the raw-verify broker
 * from this checkout as yardsticks). On a shared machine whose load moves
 * `bench:connect`'s ratio by ±0.15x between runs, the per-round difference
 * of two JWT brokers measured side by side is the figure to judge a change
 * by. Ends with one JSON line.
 */
import { createFixture, median } from './lib/broker-token-fixture.js'
import { connectAll as connectAllAt, connectPackets, seededShuffle } from './lib/connect-rounds.js'
import { spawnBenchBroker } from './lib/spawn-bench-broker.js'
import type { BenchBroker } from './lib/spawn-bench-broker.js'

const BASE = process.env.BASE
if (!BASE) {
  console.error('bench:connect-ab: set BASE to the root of the built checkout to compare with')
  process.exit(2)
}
const CONNECTS = Number(process.env.BENCH_CONNECTS ?? 9000)
const CHUNK = 100
const LEAD_IN = 16
const CONCURRENCY = 16

const fixture = await createFixture()
const brokers = {
  open: await spawnBenchBroker('open', fixture.jwks),
  verify: await spawnBenchBroker('verify', fixture.jwks),
  base: await spawnBenchBroker('jwt', fixture.jwks, 0, BASE),
  head: await spawnBenchBroker('jwt', fixture.jwks),
}
type Name = keyof typeof brokers
const names = Object.keys(brokers) as Name[]

const connectAll = (broker: BenchBroker, packets: readonly Buffer[]): Promise<number> => connectAllAt(broker.port, packets, CONCURRENCY)
const packetsFor = (prefix: string, n: number): Buffer[] => connectPackets(fixture, prefix, n)

for (const name of names) await connectAll(brokers[name], packetsFor(`u${name}`, 3000)) // warm-up, untimed
const fresh = packetsFor('f', CONNECTS)
const leadIns = packetsFor('w', LEAD_IN * Math.ceil(CONNECTS / CHUNK) * names.length)
let leadInAt = 0
const perRound: Record<Name, number[]> = { open: [], verify: [], base: [], head: [] }
const shuffle = seededShuffle()
for (let from = 0; from < CONNECTS; from += CHUNK) {
  for (const name of shuffle([...names])) {
    const broker = brokers[name]
    await connectAll(broker, leadIns.slice(leadInAt, (leadInAt += LEAD_IN)))
    const before = await broker.cpu()
    await connectAll(broker, fresh.slice(from, from + CHUNK))
    await broker.drained()
    perRound[name].push(((await broker.cpu()) - before) / CHUNK)
  }
}

const mean = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length
const added = (name: Name): number => mean(perRound[name]) - mean(perRound.open)
const round1 = (x: number): number => Math.round(x * 10) / 10
const ratio = (name: Name): number => Math.round((added(name) / added('verify')) * 100) / 100
const differences = perRound.head.map((v, i) => v - (perRound.base[i] as number))
const figures = {
  bench: 'connect-ab',
  base: BASE,
  connects: CONNECTS,
  rounds: differences.length,
  openMicros: round1(mean(perRound.open)),
  rawVerifyAddedMicros: round1(added('verify')),
  baseAddedMicros: round1(added('base')),
  headAddedMicros: round1(added('head')),
  baseRatio: ratio('base'),
  headRatio: ratio('head'),
  headMinusBaseMedianMicros: round1(median(differences)),
  roundsHeadCheaper: differences.filter((d) => d < 0).length,
}
console.log(`CONNECT CPU added to accept-all (${figures.openMicros} µs), ${CONNECTS} CONNECTs per case in ${figures.rounds} interleaved rounds`)
console.log(`  one raw verify     ${figures.rawVerifyAddedMicros.toFixed(1).padStart(7)} µs`)
console.log(`  JWT, base          ${figures.baseAddedMicros.toFixed(1).padStart(7)} µs   ${figures.baseRatio.toFixed(2)}x the raw verify   (${BASE})`)
console.log(`  JWT, this checkout ${figures.headAddedMicros.toFixed(1).padStart(7)} µs   ${figures.headRatio.toFixed(2)}x the raw verify`)
console.log(
  `  this - base, median of rounds ${figures.headMinusBaseMedianMicros} µs; this checkout cheaper in ${figures.roundsHeadCheaper} of ${figures.rounds} rounds`,
)
await Promise.all(names.map((name) => brokers[name].stop()))
fixture.keys.close()
console.log(JSON.stringify(figures))
