/**
 * `pnpm bench:connect`: CONNECT->CONNACK per second on aedes with broker-token
 * auth vs the same aedes accepting everyone, same run (brokers in child
 * processes, this process is the load generator; chunks interleaved so both
 * see the same CPU noise); then broker memory with many idle authenticated
 * clients vs accept-all. Ends with one JSON line.
 */
import type { Socket } from 'node:net'
import { createFixture, median } from './lib/broker-token-fixture.js'
import { connectPacket, DISCONNECT, mqttConnect } from './lib/mqtt-wire.js'
import { spawnBenchBroker } from './lib/spawn-bench-broker.js'
import type { BenchBroker } from './lib/spawn-bench-broker.js'

const CONNECTS = Number(process.env.BENCH_CONNECTS ?? 3000)
const CHUNK = 100
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 16)
const IDLE = Number(process.env.BENCH_IDLE ?? 10_000)

const fixture = await createFixture()
const jwt = await spawnBenchBroker('jwt', fixture.jwks)
const open = await spawnBenchBroker('open', fixture.jwks)

/** Runs `packets` as CONNECTs with `CONCURRENCY` in flight; each is closed after its CONNACK (or kept, if `keep`). */
async function connectAll(broker: BenchBroker, packets: readonly Buffer[], keep?: Socket[]): Promise<number> {
  let next = 0
  const start = process.hrtime.bigint()
  async function worker(): Promise<void> {
    while (next < packets.length) {
      const packet = packets[next++] as Buffer
      const { code, socket } = await mqttConnect(broker.port, packet)
      if (code !== 0) throw new Error(`CONNACK ${code}`)
      if (keep) keep.push(socket)
      else socket.end(DISCONNECT)
    }
  }
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, packets.length) }, worker))
  return Number(process.hrtime.bigint() - start)
}

const packetsFor = (prefix: string, n: number): Buffer[] =>
  Array.from({ length: n }, (_, i) => `${prefix}${i}`).map((id) => connectPacket(id, id, fixture.token(id)))

// --- throughput: distinct tokens (every CONNECT verifies a signature), reused tokens (reconnect storm, cache hits), accept-all
const fresh = packetsFor('f', CONNECTS)
const reused = packetsFor('r', CHUNK)
const plain = Array.from({ length: CONNECTS }, (_, i) => connectPacket(`o${i}`, `o${i}`, 'x'))
await connectAll(jwt, reused) // warm-up, fills the verified-token cache
await connectAll(open, plain.slice(0, CHUNK))
const ns = { jwt: 0, jwtReconnect: 0, open: 0 }
const perChunk: Record<keyof typeof ns, number[]> = { jwt: [], jwtReconnect: [], open: [] }
for (let from = 0; from < CONNECTS; from += CHUNK) {
  const runs: Array<[keyof typeof ns, BenchBroker, Buffer[]]> = [
    ['jwt', jwt, fresh.slice(from, from + CHUNK)], ['open', open, plain.slice(from, from + CHUNK)], ['jwtReconnect', jwt, reused],
  ]
  for (const [name, broker, packets] of runs) {
    const t = await connectAll(broker, packets)
    ns[name] += t
    perChunk[name].push(packets.length / (t / 1e9))
  }
}
const rate = (name: keyof typeof ns): number => Math.round(CONNECTS / (ns[name] / 1e9))
const r = { jwt: rate('jwt'), jwtReconnect: Math.round((reused.length * perChunk.jwtReconnect.length) / (ns.jwtReconnect / 1e9)), open: rate('open') }
const ratio = (x: number): number => Math.round((x / r.open) * 1000) / 1000
// median over chunks of (JWT chunk rate / the accept-all chunk run right after it): robust to bursts of load from other processes
const chunkRatio = Math.round(median(perChunk.jwt.map((v, i) => v / (perChunk.open[i] ?? Number.NaN))) * 1000) / 1000

console.log(`CONNECT->CONNACK, ${CONNECTS} connects per case, ${CONCURRENCY} in flight, brokers in child processes (2 cores shared)`)
console.log(`  accept-all aedes                  ${r.open.toString().padStart(7)} /s   1.000x   (chunk median ${Math.round(median(perChunk.open))})`)
console.log(`  JWT auth, a new token each        ${r.jwt.toString().padStart(7)} /s   ${ratio(r.jwt).toFixed(3)}x   target >= 0.80x (chunk median ${Math.round(median(perChunk.jwt))})`)
console.log(`  JWT auth vs accept-all, median of per-chunk ratios: ${chunkRatio.toFixed(3)}x`)
console.log(`  JWT auth, reconnect (cache hits)  ${r.jwtReconnect.toString().padStart(7)} /s   ${ratio(r.jwtReconnect).toFixed(3)}x`)

// --- memory: IDLE idle authenticated clients vs accept-all
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
const idleJwt = await idleMemory(jwt, packetsFor('idle', IDLE))
const idleOpen = await idleMemory(open, Array.from({ length: IDLE }, (_, i) => connectPacket(`idle${i}`, `idle${i}`, 'x')))
const heapRatio = Math.round((idleJwt.heapPerClient / idleOpen.heapPerClient) * 100) / 100
const rssRatio = Math.round((idleJwt.rssPerClient / idleOpen.rssPerClient) * 100) / 100
console.log(`Idle clients: ${IDLE} connected at once (sessions seen by the broker: jwt ${idleJwt.sessions}, open ${idleOpen.sessions})`)
console.log(`  accept-all  heap ${idleOpen.heapPerClient} B/client, rss ${idleOpen.rssPerClient} B/client`)
console.log(`  JWT auth    heap ${idleJwt.heapPerClient} B/client, rss ${idleJwt.rssPerClient} B/client   (heap ${heapRatio}x, rss ${rssRatio}x; target < 1.5x)`)

await Promise.all([jwt.stop(), open.stop()])
fixture.keys.close()
console.log(JSON.stringify({
  bench: 'connect', connects: CONNECTS, concurrency: CONCURRENCY, openPerSec: r.open, jwtPerSec: r.jwt, ratio: ratio(r.jwt), chunkRatio,
  reconnectPerSec: r.jwtReconnect, reconnectRatio: ratio(r.jwtReconnect), idleClients: IDLE,
  idleHeapPerClient: { jwt: idleJwt.heapPerClient, open: idleOpen.heapPerClient }, idleRssPerClient: { jwt: idleJwt.rssPerClient, open: idleOpen.rssPerClient },
  heapRatio, rssRatio, pass: ratio(r.jwt) >= 0.8 && heapRatio < 1.5,
}))
