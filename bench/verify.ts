/**
 * `pnpm bench:verify`: broker-token verifier checks per second vs raw
 * node:crypto `verify` of the same Ed25519 signatures, same process, rounds
 * interleaved. The verifier is the JOSE core's (every strict rule on: the
 * duplicate-member check, key fit, the claim rules) plus core's claim schema.
 * Also: the verifier's cache of verified tokens (a reconnect storm
 * re-presenting the same tokens) and jose's `jwtVerify` for reference.
 * Target: >= 0.90x raw. Ends with one JSON line.
 */
import { verify as cryptoVerify } from 'node:crypto'
import { createLocalJWKSet, jwtVerify } from 'jose'
import { createVerifier } from '@mqtt-oidc/broker-auth'
import { BROKER, createFixture, ISSUER, median } from './lib/broker-token-fixture.js'

const TOKENS = Number(process.env.BENCH_TOKENS ?? 4000)
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5)
const TARGET = 0.9

const fixture = await createFixture()
const tokens = Array.from({ length: TOKENS }, (_, i) => fixture.token(`c${i}`))
const split = tokens.map((t) => {
  const dot = t.lastIndexOf('.')
  return { input: Buffer.from(t.slice(0, dot)), sig: Buffer.from(t.slice(dot + 1), 'base64url') }
})
const cold = createVerifier({ issuer: ISSUER, audience: BROKER, jwksUri: `${ISSUER}/jwks`, keys: fixture.keys, cacheSize: 0 })
const cached = createVerifier({ issuer: ISSUER, audience: BROKER, jwksUri: `${ISSUER}/jwks`, keys: fixture.keys, cacheSize: TOKENS })
const jwks = createLocalJWKSet({ keys: [{ ...fixture.publicKey.export({ format: 'jwk' }), kid: fixture.kid, alg: 'EdDSA' }] })

const CHUNK = 50
const chunks = Array.from({ length: Math.ceil(TOKENS / CHUNK) }, (_, i) => i * CHUNK)

// each case runs one chunk of 50 tokens in turn, so every case sees the same CPU noise (2 shared cores)
const cases = {
  raw: (from: number) => {
    for (let i = from; i < from + CHUNK && i < TOKENS; i++) {
      const s = split[i]
      if (!s || !cryptoVerify(null, s.input, fixture.publicKey, s.sig)) throw new Error('raw verify failed')
    }
  },
  verifier: async (from: number) => {
    for (let i = from; i < from + CHUNK && i < TOKENS; i++) await cold.verify(tokens[i] ?? '')
  },
  verifierCached: async (from: number) => {
    for (let i = from; i < from + CHUNK && i < TOKENS; i++) await cached.verify(tokens[i] ?? '')
  },
  jose: async (from: number) => {
    for (let i = from; i < from + CHUNK && i < TOKENS; i++) {
      await jwtVerify(tokens[i] ?? '', jwks, { issuer: ISSUER, audience: BROKER, typ: 'mqtt-broker+jwt', algorithms: ['EdDSA'] })
    }
  },
}
type Case = keyof typeof cases
const names = Object.keys(cases) as Case[]

// warm-up (JIT; fills the cached verifier's cache)
for (const from of chunks) for (const name of names) await cases[name](from)
const results: Record<Case, number[]> = { raw: [], verifier: [], verifierCached: [], jose: [] }
// per chunk: this case's speed relative to raw on the same tokens, moments apart (robust to bursts of load from other processes)
const chunkRatios: Record<Case, number[]> = { raw: [], verifier: [], verifierCached: [], jose: [] }
// the same by CPU time of this process: what the verifier costs, whatever else the (shared) machine runs meanwhile
const cpuChunkRatios: Record<Case, number[]> = { raw: [], verifier: [], verifierCached: [], jose: [] }
for (let round = 0; round < ROUNDS; round++) {
  const ns: Record<Case, bigint> = { raw: 0n, verifier: 0n, verifierCached: 0n, jose: 0n }
  for (const from of chunks) {
    const t = {} as Record<Case, number>
    const cpu = {} as Record<Case, number>
    for (const name of names) {
      const startCpu = process.cpuUsage()
      const start = process.hrtime.bigint()
      await cases[name](from)
      const took = process.hrtime.bigint() - start
      const used = process.cpuUsage(startCpu)
      ns[name] += took
      t[name] = Number(took)
      cpu[name] = used.user + used.system
    }
    for (const name of names) {
      chunkRatios[name].push(t.raw / t[name])
      cpuChunkRatios[name].push(cpu.raw / Math.max(1, cpu[name]))
    }
  }
  for (const name of names) results[name].push(TOKENS / (Number(ns[name]) / 1e9))
}
const chunkRatio = (name: Case): number => Math.round(median(chunkRatios[name]) * 1000) / 1000
const cpuChunkRatio = (name: Case): number => Math.round(median(cpuChunkRatios[name]) * 1000) / 1000
const m = Object.fromEntries(Object.entries(results).map(([k, v]) => [k, Math.round(median(v))])) as Record<Case, number>
const ratio = (x: number): number => Math.round((x / m.raw) * 1000) / 1000

console.log(`Ed25519 broker tokens, ${TOKENS} distinct tokens x ${ROUNDS} rounds, interleaved per ${CHUNK} tokens (medians), one thread`)
console.log('                              checks/s   vs raw (totals)   vs raw (median of per-chunk ratios: wall, CPU)')
console.log(`  raw crypto.verify           ${m.raw.toString().padStart(9)}   1.000x            1.000x  1.000x`)
console.log(
  `  createVerifier (no cache)   ${m.verifier.toString().padStart(9)}   ${ratio(m.verifier).toFixed(3)}x            ${chunkRatio('verifier').toFixed(3)}x  ${cpuChunkRatio('verifier').toFixed(3)}x   target >= ${TARGET.toFixed(2)}x`,
)
console.log(`  createVerifier (cache hit)  ${m.verifierCached.toString().padStart(9)}   ${ratio(m.verifierCached).toFixed(3)}x`)
console.log(
  `  jose jwtVerify (reference)  ${m.jose.toString().padStart(9)}   ${ratio(m.jose).toFixed(3)}x            ${chunkRatio('jose').toFixed(3)}x  ${cpuChunkRatio('jose').toFixed(3)}x`,
)
cold.close()
cached.close()
fixture.keys.close()
console.log(
  JSON.stringify({
    bench: 'verify',
    tokens: TOKENS,
    rounds: ROUNDS,
    rawPerSec: m.raw,
    verifierPerSec: m.verifier,
    ratio: ratio(m.verifier),
    chunkRatio: chunkRatio('verifier'),
    cpuChunkRatio: cpuChunkRatio('verifier'),
    cachedPerSec: m.verifierCached,
    cachedRatio: ratio(m.verifierCached),
    josePerSec: m.jose,
    joseRatio: ratio(m.jose),
    joseChunkRatio: chunkRatio('jose'),
    target: TARGET,
    pass: chunkRatio('verifier') >= TARGET,
  }),
)
