import type { Socket } from 'node:net'
import type { Fixture } from './broker-token-fixture.js'
import { connectPacket, DISCONNECT, mqttConnect } from './mqtt-wire.js'

/** `n` CONNECT packets for client ids `<prefix>0..`, each with its own new broker token as password (username = client id). */
export function connectPackets(fixture: Fixture, prefix: string, n: number): Buffer[] {
  return Array.from({ length: n }, (_, i) => `${prefix}${i}`).map((id) => connectPacket(id, id, fixture.token(id)))
}

/**
 * Runs `packets` as CONNECTs against 127.0.0.1:`port` with `concurrency` in
 * flight; each connection is closed after its CONNACK (or kept in `keep`).
 * Any CONNACK but 0 throws. Resolves with the wall time in ns.
 */
export async function connectAll(port: number, packets: readonly Buffer[], concurrency: number, keep?: Socket[]): Promise<number> {
  let next = 0
  const start = process.hrtime.bigint()
  async function worker(): Promise<void> {
    while (next < packets.length) {
      const { code, socket } = await mqttConnect(port, packets[next++] as Buffer)
      if (code !== 0) throw new Error(`CONNACK ${code}`)
      if (keep) keep.push(socket)
      else socket.end(DISCONNECT)
    }
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, packets.length) }, worker))
  return Number(process.hrtime.bigint() - start)
}

/**
 * A Fisher-Yates shuffle in place, from a small PRNG with a fixed seed: the
 * same case orders in every run of a bench.
 */
export function seededShuffle(): <T>(list: T[]) => T[] {
  const random = seededRandom(0x2545f491)
  return (list) => {
    for (let i = list.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1))
      ;[list[i], list[j]] = [list[j] as (typeof list)[number], list[i] as (typeof list)[number]]
    }
    return list
  }
}

/**
 * How far a ratio of added CPU can be trusted, from the rounds themselves:
 * the ratio is Σ(measured − base) / Σ(yardstick − base) over the rounds
 * (what `bench:connect` reports), and the interval is the central `level`
 * share of that ratio over `resamples` bootstrap resamples of the rounds
 * (drawn with replacement from a fixed seed, each round's chunks kept
 * together, since they ran back to back under the same load). Rounds are
 * paired by index; the lists must be of one length.
 */
export function addedRatioInterval(
  measured: readonly number[],
  yardstick: readonly number[],
  base: readonly number[],
  level = 0.9,
  resamples = 2000,
): [number, number] {
  const n = measured.length
  if (n === 0 || yardstick.length !== n || base.length !== n) throw new RangeError('addedRatioInterval: the three lists need the same, non-zero length')
  const random = seededRandom(0x9e3779b9)
  const ratios: number[] = []
  for (let r = 0; r < resamples; r++) {
    let added = 0
    let yard = 0
    for (let k = 0; k < n; k++) {
      const i = Math.floor(random() * n)
      added += (measured[i] as number) - (base[i] as number)
      yard += (yardstick[i] as number) - (base[i] as number)
    }
    ratios.push(added / yard)
  }
  ratios.sort((a, b) => a - b)
  const tail = (1 - level) / 2
  const at = (q: number): number => ratios[Math.min(resamples - 1, Math.max(0, Math.round(q * (resamples - 1))))] as number
  return [at(tail), at(1 - tail)]
}

/** Uniform numbers in [0, 1) from a linear congruential generator: the same sequence for the same seed. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0
  return () => (state = (Math.imul(state, 1103515245) + 12345) >>> 0) / 2 ** 32
}
