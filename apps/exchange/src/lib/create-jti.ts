import { randomFillSync } from 'node:crypto'
import { encodeTime } from 'ulid'

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ'
const pool = Buffer.alloc(4096)
let offset = pool.length

/**
 * A ULID (same format as core's createId) drawn from a pooled CSPRNG buffer:
 * the `ulid` package calls randomFillSync once per character, which made id
 * generation (~230 µs) the most expensive step of a token exchange. 256 is a
 * multiple of 32, so `byte & 31` is unbiased; every pooled byte is used once.
 */
export function createJti(now: number = Date.now()): string {
  if (offset + 16 > pool.length) {
    randomFillSync(pool)
    offset = 0
  }
  let id = encodeTime(now, 10)
  for (let i = 0; i < 16; i++) id += CROCKFORD[pool[offset++]! & 31]
  return id
}
