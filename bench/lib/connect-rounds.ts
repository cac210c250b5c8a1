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
