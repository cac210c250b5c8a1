/**
 * `pnpm bench:revoke`: revoke -> disconnect latency over live sessions on the
 * embedded broker (apps/broker, in process) following an SSE revocation
 * feed; then memory and lookup cost of 1,000,000 revoked jtis in the
 * broker's revocation set, and the time to load such a snapshot.
 * Ends with one JSON line.
 */
import type { Socket } from 'node:net'
import { pino } from 'pino'
import { createId } from '@mqtt-oidc/core'
import { createBroker } from '@mqtt-oidc/broker'
import { createRevocationSet, parseFeedSnapshot } from '@mqtt-oidc/broker-auth'
import { startFakeExchange } from '@mqtt-oidc/test-support/fake-exchange'
import { BROKER, createFixture, ISSUER, median, percentile } from './lib/broker-token-fixture.js'
import { connectPacket, mqttConnect } from './lib/mqtt-wire.js'

const SESSIONS = Number(process.env.BENCH_SESSIONS ?? 1000)
const REVOKED = Number(process.env.BENCH_REVOKED ?? 1_000_000)

// --- revoke -> disconnect latency
const fixture = await createFixture()
const exchange = await startFakeExchange({ broker: BROKER })
exchange.jwks = JSON.parse(fixture.jwks) as typeof exchange.jwks
// the feed wants the broker's credential, as the exchange's does
exchange.feedCredential = 'bench-feed-credential'
const broker = createBroker({
  brokerId: BROKER,
  exchangeUrl: exchange.url,
  issuer: ISSUER,
  feedCredential: exchange.feedCredential,
  mqttPort: 0,
  wsPort: 0,
  logger: pino({ level: 'silent' }),
})
const { mqttPort } = await broker.listen()
const sessions: Array<{ jti: string; socket: Socket }> = []
for (let i = 0; i < SESSIONS; i++) {
  const jti = createId()
  const { code, socket } = await mqttConnect(mqttPort, connectPacket(`s${i}`, `s${i}`, fixture.token(`s${i}`, { jti })))
  if (code !== 0) throw new Error(`CONNACK ${code}`)
  sessions.push({ jti, socket })
}
const latenciesMs: number[] = []
for (const { jti, socket } of sessions) {
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()))
  const start = process.hrtime.bigint()
  exchange.revoke(jti) // the exchange has acknowledged: the event is on the SSE stream
  await closed
  latenciesMs.push(Number(process.hrtime.bigint() - start) / 1e6)
}
await broker.close()
await exchange.close()
fixture.keys.close()
const p50 = Math.round(percentile(latenciesMs, 50) * 1000) / 1000
const p99 = Math.round(percentile(latenciesMs, 99) * 1000) / 1000
const max = Math.round(Math.max(...latenciesMs) * 1000) / 1000
console.log(`Revoke -> disconnect over ${SESSIONS} live sessions (SSE feed, aedes in process, one at a time)`)
console.log(`  p50 ${p50} ms   p99 ${p99} ms   max ${max} ms   (target: every one within 1000 ms)`)

// --- 1,000,000 revoked jtis: memory, lookup, snapshot load
const gc = (): void => {
  for (let i = 0; i < 3; i++) globalThis.gc?.()
}
// ULID-shaped 26-character jtis (a real ULID prefix + a counter: createId() per jti would dominate the run)
const prefix = createId().slice(0, 16)
const jtiOf = (i: number): string => `${prefix}${i.toString(32).toUpperCase().padStart(10, '0')}`
const expiresAt = Math.floor(Date.now() / 1000) + 86_400
gc()
const heapBefore = process.memoryUsage().heapUsed
const jtis = Array.from({ length: REVOKED }, (_, i) => jtiOf(i))
const set = createRevocationSet()
for (const jti of jtis) set.revoke(jti, expiresAt)
gc()
// counted: the jti strings (they arrive with the feed), the Map, and an 8 B/entry array holding the strings
const heapAfter = process.memoryUsage().heapUsed
const bytesPerJti = Math.round((heapAfter - heapBefore) / REVOKED)
const misses = Array.from({ length: 100_000 }, (_, i) => jtiOf(REVOKED + i))
const lookups: number[] = []
for (let round = 0; round < 5; round++) {
  let hits = 0
  const start = process.hrtime.bigint()
  for (let i = 0; i < 100_000; i++) if (set.has(jtis[(i * 7919) % REVOKED] as string)) hits++
  for (const m of misses) if (set.has(m)) hits--
  lookups.push(Number(process.hrtime.bigint() - start) / 200_000)
  if (hits !== 100_000) throw new Error('lookup mismatch')
}
const lookupNs = Math.round(median(lookups))
const body = JSON.stringify({ broker: BROKER, revision: REVOKED, revoked: jtis.map((jti) => ({ jti, expiresAt })) })
const loadStart = process.hrtime.bigint()
createRevocationSet().replace(parseFeedSnapshot(JSON.parse(body)).revoked)
const snapshotLoadMs = Math.round(Number(process.hrtime.bigint() - loadStart) / 1e6)
console.log(`${REVOKED} revoked jtis (ULIDs) in the broker's revocation set${globalThis.gc ? '' : ' (run with --expose-gc for exact memory)'}`)
console.log(`  memory ${Math.round((heapAfter - heapBefore) / 1048576)} MiB (${bytesPerJti} B/jti incl. the strings)   lookup ${lookupNs} ns (hits and misses)`)
console.log(`  snapshot of ${Math.round(body.length / 1048576)} MiB JSON parsed and loaded in ${snapshotLoadMs} ms`)
console.log(
  JSON.stringify({
    bench: 'revoke',
    sessions: SESSIONS,
    p50Ms: p50,
    p99Ms: p99,
    maxMs: max,
    pass: max < 1000,
    revoked: REVOKED,
    heapMiB: Math.round((heapAfter - heapBefore) / 1048576),
    bytesPerJti,
    lookupNs,
    snapshotBytes: body.length,
    snapshotLoadMs,
  }),
)
