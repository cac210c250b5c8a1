import { PassThrough } from 'node:stream'
import { describe, expect, it } from 'vitest'
import { guardPacketSizes } from '../src/index.js'
import type { PacketSizeViolation } from '../src/index.js'

const LIMITS = { maxConnectBytes: 100, maxPacketBytes: 1000 }

/** Feeds `chunks` through a stream watched by the guard; resolves with the violation, if any. */
async function watch(chunks: number[][]): Promise<PacketSizeViolation | undefined> {
  const stream = new PassThrough()
  let violation: PacketSizeViolation | undefined
  guardPacketSizes(stream, LIMITS, (v) => (violation = v))
  for (const chunk of chunks) stream.write(Buffer.from(chunk))
  stream.end()
  await new Promise((resolve) => stream.once('end', resolve))
  return violation
}
const bytes = (n: number): number[] => new Array<number>(n).fill(0)

describe('guardPacketSizes', () => {
  it('lets packets within the limits through, bodies and headers split anywhere', async () => {
    const connect = [0x10, 100, ...bytes(100)]
    const publish = [0x30, 0xe8, 0x07, ...bytes(1000)] // remaining length 1000 in two bytes
    const all = [...connect, ...publish, 0xc0, 0x00]
    expect(await watch([all])).toBeUndefined()
    expect(await watch(all.map((b) => [b]))).toBeUndefined()
    expect(await watch([all.slice(0, 50), all.slice(50, 103), all.slice(103)])).toBeUndefined()
  })

  it('stops at a CONNECT declaring more than maxConnectBytes, as soon as its length is read', async () => {
    expect(await watch([[0x10, 101], bytes(10)])).toEqual({ declared: 101, limit: 100, first: true, bytesRead: 2 })
    expect(await watch([[0x10, 0xff, 0xff, 0xff, 0x7f]])).toEqual({ declared: 268_435_455, limit: 100, first: true, bytesRead: 5 })
  })

  it('applies maxPacketBytes to the packets after the CONNECT', async () => {
    expect(await watch([[0x10, 2, 0, 0, 0x30, 0xe9, 0x07]])).toEqual({ declared: 1001, limit: 1000, first: false, bytesRead: 7 })
  })

  it('stops at a length field longer than four bytes', async () => {
    expect(await watch([[0x10, 0x80, 0x80, 0x80, 0x80, 0x01]])).toEqual({ declared: Number.NaN, limit: 100, first: true, bytesRead: 6 })
  })
})
