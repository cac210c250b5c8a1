import type { Socket } from 'node:net'
import { DISCONNECT, mqttConnect } from './mqtt-wire.js'

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
  let seed = 0x2545f491
  const random = (): number => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32
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
  let seed = 0x9e3779b9
  const pick = (): number => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32) * n
  const ratios: number[] = []
  for (let r = 0; r < resamples; r++) {
    let added = 0
    let yard = 0
    for (let k = 0; k < n; k++) {
      const i = Math.floor(pick())
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
