/**
 * `pnpm bench:connect`: aedes with broker-token auth vs the same aedes
 * accepting everyone, in one run, brokers in child processes (this process
 * is the load generator), both sent the very same CONNECT packets (a broker
 * token as password):
 * - CONNECT->CONNACK per second, chunks interleaved so both see the same CPU noise;
 * - the CPU a CONNECT costs in the broker process (`process.cpuUsage()` around
 *   each chunk, until every session of it has closed again): JWT minus
 *   accept-all, per CONNECT, against one raw Ed25519 `crypto.verify`, in the
 *   same rounds (target <= 1.2x), with a 90% bootstrap interval over the
 *   rounds (how far one run's ratio can be trusted). The verify is measured two ways: in a third
 *   broker whose authenticate is that one verify and nothing else (same
 *   flow, same cold caches as a real CONNECT: the target figure), and in a
 *   tight loop (hot caches, for reference);
 * - the floor under that target: a fourth broker whose authenticate is the
 *   least a token check can be (the verify, the payload parsed, iss, aud,
 *   times, sub and jti; see bench-broker's `minimal`), in the same rounds;
 * - fair rounds: the cases run in a different order each round, and each
 *   measured chunk follows an untimed lead-in of the same kind on the same
 *   broker, so no case starts with its process hot from the case before it
 *   (a JWT chunk right after the reconnect chunk on the same broker measured
 *   up to a third less CPU than in any other order);
 * - heap per idle authenticated client vs accept-all (target <= 1.2x).
 * The brokers run the built packages (`npm run build` first, which the
 * script does). Ends with one JSON line.
 */
import type { Socket } from 'node:net'
import { createFixture, median, signedParts } from './lib/broker-token-fixture.js'
import { addedRatioInterval, connectAll as connectAllAt, connectPackets, seededShuffle } from './lib/connect-rounds.js'
import { spawnBenchBroker } from './lib/spawn-bench-broker.js'
import type { BenchBroker } from './lib/spawn-bench-broker.js'

const CONNECTS = Number(process.env.BENCH_CONNECTS ?? 3000)
const CHUNK = 100
const WARM_UP = Number(process.env.BENCH_WARM_UP ?? 3000)
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 16)
const IDLE = Number(process.env.BENCH_IDLE ?? 10_000)
const CPU_TARGET = 1.2
const MEMORY_TARGET = 1.2

type Case = 'jwt' | 'open' | 'jwtReconnect' | 'rawVerify' | 'minimal'

const fixture = await createFixture()
const jwt = await spawnBenchBroker('jwt', fixture.jwks)
const open = await spawnBenchBroker('open', fixture.jwks)
const rawBroker = await spawnBenchBroker('verify', fixture.jwks)
const minimalBroker = await spawnBenchBroker('minimal', fixture.jwks)

const connectAll = (broker: BenchBroker, packets: readonly Buffer[], keep?: Socket[]): Promise<number> => connectAllAt(broker.port, packets, CONCURRENCY, keep)

/** Connects and disconnects `packets`; returns wall ns and the broker's CPU µs until all its sessions are gone. */
async function chunk(broker: BenchBroker, packets: readonly Buffer[]): Promise<{ ns: number; cpu: number }> {
  const before = await broker.cpu()
  const ns = await connectAll(broker, packets)
  await broker.drained()
  return { ns, cpu: (await broker.cpu()) - before }
}

const packetsFor = (prefix: string, n: number): Buffer[] => connectPackets(fixture, prefix, n)

// distinct tokens: every JWT CONNECT verifies a signature; accept-all gets the same packets
const fresh = packetsFor('f', CONNECTS)
// reused tokens: a reconnect storm, served from the verified cache
const reused = packetsFor('r', CHUNK)
// the untimed lead-in before each measured chunk: new tokens too, so a JWT lead-in runs the signature path
const LEAD_IN = 16
// the cases measured on the new tokens of each round (the reconnect case reuses its own tokens)
const freshCases: Array<[Case, BenchBroker]> = [
  ['jwt', jwt],
  ['open', open],
  ['rawVerify', rawBroker],
  ['minimal', minimalBroker],
]
const leadIns = packetsFor('w', LEAD_IN * Math.ceil(CONNECTS / CHUNK) * freshCases.length)
let leadInAt = 0
const [signingInput, signature] = signedParts(fixture.token('raw'))
// Warm-up, untimed: JIT and caches of every broker in the state they reach under a steady stream of
// CONNECTs. With only 100 the accept-all and raw-verify brokers were still getting cheaper a third
// of the way through the rounds (the JWT broker, which also serves the reconnect chunks, was not),
// which flattered the JWT figure; the per-quarter line below shows whether the rounds are steady.
const warmUp = packetsFor('u', WARM_UP)
for (const broker of [jwt, open, rawBroker, minimalBroker]) {
  await connectAll(broker, warmUp)
  await connectAll(broker, reused) // for the JWT broker: fills the verified-token cache with them
}
await jwt.rawVerify(CHUNK, signingInput, signature)

const ns: Record<Case, number> = { jwt: 0, open: 0, jwtReconnect: 0, rawVerify: 0, minimal: 0 }
const cpu: Record<Case, number> = { jwt: 0, open: 0, jwtReconnect: 0, rawVerify: 0, minimal: 0 }
const perChunk: Record<Case, number[]> = { jwt: [], open: [], jwtReconnect: [], rawVerify: [], minimal: [] }
const perChunkCpu: Record<Case, number[]> = { jwt: [], open: [], jwtReconnect: [], rawVerify: [], minimal: [] }
let rawCpu = 0
const cpuRatios: number[] = []
const minimalRatios: number[] = []
const shuffle = seededShuffle()
for (let from = 0; from < CONNECTS; from += CHUNK) {
  const packets = fresh.slice(from, from + CHUNK)
  const runs = shuffle<[Case, BenchBroker, Buffer[]]>([
    ...freshCases.map(([name, broker]): [Case, BenchBroker, Buffer[]] => [name, broker, packets]),
    ['jwtReconnect', jwt, reused],
  ])
  const round: Partial<Record<Case, number>> = {}
  for (const [name, broker, list] of runs) {
    const leadIn = name === 'jwtReconnect' ? reused.slice(0, LEAD_IN) : leadIns.slice(leadInAt, (leadInAt += LEAD_IN))
    await connectAll(broker, leadIn)
    const r = await chunk(broker, list)
    ns[name] += r.ns
    cpu[name] += r.cpu
    round[name] = r.cpu / list.length
    perChunkCpu[name].push(r.cpu / list.length)
    perChunk[name].push(list.length / (r.ns / 1e9))
  }
  rawCpu += await jwt.rawVerify(packets.length, signingInput, signature)
  cpuRatios.push(((round.jwt ?? 0) - (round.open ?? 0)) / ((round.rawVerify ?? 0) - (round.open ?? 0)))
  minimalRatios.push(((round.minimal ?? 0) - (round.open ?? 0)) / ((round.rawVerify ?? 0) - (round.open ?? 0)))
}
// median CPU per CONNECT in each quarter of the rounds: flat when the brokers were warm
const quarters = (name: Case): string => {
  const all = perChunkCpu[name]
  const q = Math.max(1, Math.floor(all.length / 4))
  return [0, 1, 2, 3].map((k) => Math.round(median(all.slice(k * q, (k + 1) * q)))).join(' / ')
}
const rounds = cpuRatios.length
const rate = (name: Case, n: number): number => Math.round(n / (ns[name] / 1e9))
const r = { jwt: rate('jwt', CONNECTS), open: rate('open', CONNECTS), jwtReconnect: rate('jwtReconnect', reused.length * rounds) }
const ratio = (x: number): number => Math.round((x / r.open) * 1000) / 1000
// median over rounds of (JWT chunk rate / the accept-all chunk rate of the same round): robust to bursts of load from other processes
const chunkRatio = Math.round(median(perChunk.jwt.map((v, i) => v / (perChunk.open[i] ?? Number.NaN))) * 1000) / 1000
const us = (x: number): number => Math.round(x * 10) / 10
const cpuPerConnect = {
  jwt: us(cpu.jwt / CONNECTS),
  open: us(cpu.open / CONNECTS),
  rawVerify: us(cpu.rawVerify / CONNECTS),
  minimal: us(cpu.minimal / CONNECTS),
  jwtReconnect: us(cpu.jwtReconnect / (reused.length * rounds)),
}
const addedCpu = us(cpuPerConnect.jwt - cpuPerConnect.open)
// one raw verify where a CONNECT does it (the verify broker minus accept-all), and in a tight loop
const rawVerifyInFlow = us(cpuPerConnect.rawVerify - cpuPerConnect.open)
const rawVerifyLoop = us(rawCpu / CONNECTS)
const ratio2 = (a: number, b: number): number => Math.round((a / b) * 100) / 100
const cpuRatio = ratio2(addedCpu, rawVerifyInFlow)
const cpuRatioMedian = ratio2(median(cpuRatios), 1)
const cpuRatioLoop = ratio2(addedCpu, rawVerifyLoop)
// the least a token check can add (see bench-broker's `minimal`), against the same yardstick
const minimalCheck = us(cpuPerConnect.minimal - cpuPerConnect.open)
const minimalCheckRatio = ratio2(minimalCheck, rawVerifyInFlow)
const minimalCheckRatioMedian = ratio2(median(minimalRatios), 1)
// what JWT auth adds over what the minimal check adds: the checks beyond the floor, as a ratio
const jwtOverMinimal = ratio2(addedCpu, minimalCheck)
// how far the two ratios can be trusted on this machine: 90% bootstrap intervals over the rounds
const interval = (measured: Case): [number, number] =>
  addedRatioInterval(perChunkCpu[measured], perChunkCpu.rawVerify, perChunkCpu.open).map((x) => ratio2(x, 1)) as [number, number]
const cpuRatioInterval = interval('jwt')
const minimalCheckRatioInterval = interval('minimal')
const shownInterval = ([lo, hi]: [number, number]): string => `90% interval over the rounds ${lo.toFixed(2)}-${hi.toFixed(2)}x`

console.log(`CONNECT->CONNACK, ${CONNECTS} connects per case, ${CONCURRENCY} in flight, brokers in child processes (2 cores shared), same packets for both`)
console.log(`  accept-all aedes                  ${r.open.toString().padStart(7)} /s   1.000x   (chunk median ${Math.round(median(perChunk.open))})`)
console.log(
  `  JWT auth, a new token each        ${r.jwt.toString().padStart(7)} /s   ${ratio(r.jwt).toFixed(3)}x   (chunk median ${Math.round(median(perChunk.jwt))})`,
)
console.log(`  JWT auth vs accept-all, median of per-chunk ratios: ${chunkRatio.toFixed(3)}x`)
console.log(`  JWT auth, reconnect (cache hits)  ${r.jwtReconnect.toString().padStart(7)} /s   ${ratio(r.jwtReconnect).toFixed(3)}x`)
console.log(`CONNECT CPU in the broker process (process.cpuUsage, connect + close, ${rounds} interleaved rounds)`)
console.log(`  accept-all                        ${cpuPerConnect.open.toFixed(1).padStart(7)} µs/connect`)
console.log(`  accept-all + one raw verify       ${cpuPerConnect.rawVerify.toFixed(1).padStart(7)} µs/connect`)
console.log(
  `  accept-all + a minimal check      ${cpuPerConnect.minimal.toFixed(1).padStart(7)} µs/connect   (verify, parse, iss/aud/times/sub/jti, nothing else)`,
)
console.log(`  JWT auth, a new token each        ${cpuPerConnect.jwt.toFixed(1).padStart(7)} µs/connect`)
console.log(
  `  JWT auth, reconnect (cache hits)  ${cpuPerConnect.jwtReconnect.toFixed(1).padStart(7)} µs/connect   (new client ids cost aedes more than reused ones)`,
)
console.log(
  `  by quarter of the rounds (median µs): accept-all ${quarters('open')}; raw verify ${quarters('rawVerify')}; minimal ${quarters('minimal')}; JWT ${quarters('jwt')}`,
)
console.log(`  added by JWT auth                 ${addedCpu.toFixed(1).padStart(7)} µs/connect`)
console.log(`  one raw verify, in a CONNECT      ${rawVerifyInFlow.toFixed(1).padStart(7)} µs/op   (tight loop: ${rawVerifyLoop.toFixed(1)} µs/op)`)
console.log(
  `  added / raw verify                ${cpuRatio.toFixed(2).padStart(7)}x   (median of rounds ${cpuRatioMedian.toFixed(2)}x; vs the tight loop ${cpuRatioLoop.toFixed(2)}x)   target <= ${CPU_TARGET}x`,
)
console.log(`                                              ${shownInterval(cpuRatioInterval)}`)
console.log(
  `  minimal check / raw verify        ${minimalCheckRatio.toFixed(2).padStart(7)}x   (median of rounds ${minimalCheckRatioMedian.toFixed(2)}x): the floor under any token check here`,
)
console.log(`                                              ${shownInterval(minimalCheckRatioInterval)}`)
console.log(`  added / minimal check added       ${jwtOverMinimal.toFixed(2).padStart(7)}x   (what every check beyond the floor costs)`)

// --- memory: IDLE idle authenticated clients vs accept-all, the same CONNECT packets
async function idleMemory(broker: BenchBroker, packets: Buffer[]): Promise<{ heapPerClient: number; rssPerClient: number; sessions: number }> {
  const before = await broker.memory()
  const sockets: Socket[] = []
  await connectAll(broker, packets, sockets)
  const after = await broker.memory()
  for (const s of sockets) s.destroy()
  return {
    heapPerClient: Math.round((after.mem.heapUsed - before.mem.heapUsed) / packets.length),
    rssPerClient: Math.round((after.mem.rss - before.mem.rss) / packets.length),
    sessions: after.sessions,
  }
}
const idlePackets = packetsFor('idle', IDLE)
const idleJwt = await idleMemory(jwt, idlePackets)
const idleOpen = await idleMemory(open, idlePackets)
const heapRatio = Math.round((idleJwt.heapPerClient / idleOpen.heapPerClient) * 100) / 100
const rssRatio = Math.round((idleJwt.rssPerClient / idleOpen.rssPerClient) * 100) / 100
console.log(`Idle clients: ${IDLE} connected at once (sessions seen by the broker: jwt ${idleJwt.sessions}, open ${idleOpen.sessions})`)
console.log(`  accept-all  heap ${idleOpen.heapPerClient} B/client, rss ${idleOpen.rssPerClient} B/client`)
console.log(
  `  JWT auth    heap ${idleJwt.heapPerClient} B/client, rss ${idleJwt.rssPerClient} B/client   (heap ${heapRatio}x, target <= ${MEMORY_TARGET}x; rss ${rssRatio}x)`,
)

await Promise.all([jwt.stop(), open.stop(), rawBroker.stop(), minimalBroker.stop()])
fixture.keys.close()
console.log(
  JSON.stringify({
    bench: 'connect',
    connects: CONNECTS,
    concurrency: CONCURRENCY,
    openPerSec: r.open,
    jwtPerSec: r.jwt,
    ratio: ratio(r.jwt),
    chunkRatio,
    reconnectPerSec: r.jwtReconnect,
    reconnectRatio: ratio(r.jwtReconnect),
    cpuPerConnectMicros: cpuPerConnect,
    addedCpuMicros: addedCpu,
    rawVerifyMicros: { inConnect: rawVerifyInFlow, tightLoop: rawVerifyLoop },
    cpuRatio,
    cpuRatioMedian,
    cpuRatioLoop,
    cpuRatioInterval,
    minimalCheckMicros: minimalCheck,
    minimalCheckRatio,
    minimalCheckRatioMedian,
    minimalCheckRatioInterval,
    jwtOverMinimal,
    idleClients: IDLE,
    idleHeapPerClient: { jwt: idleJwt.heapPerClient, open: idleOpen.heapPerClient },
    idleRssPerClient: { jwt: idleJwt.rssPerClient, open: idleOpen.rssPerClient },
    heapRatio,
    rssRatio,
    pass: cpuRatio <= CPU_TARGET && heapRatio <= MEMORY_TARGET,
  }),
)
