import { randomFillSync } from 'node:crypto'

/** Crockford's base32, the ULID alphabet (no I, L, O, U). */
const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ'
/** The largest time a ULID holds: 48 bits of milliseconds (year 10889). */
const MAX_TIME = 2 ** 48 - 1

// Random bytes are drawn 4 KiB at a time: one randomFillSync per character
// (what the `ulid` package does) made id generation the most expensive step
// of a token exchange (~230 µs per id).
const pool = Buffer.alloc(4096)
let offset = pool.length

/**
 * A new ULID: 26 characters, 10 of time (milliseconds since the epoch, so
 * ids sort by creation time) and 16 of CSPRNG randomness (80 bits). Used for
 * `jti`s, key ids, account ids and generated client ids. 256 is a multiple of
 * 32, so `byte & 31` is unbiased; every pooled byte is used once.
 *
 * @example const jti = createId()
 */
export function createId(now: number = Date.now()): string {
  if (!Number.isSafeInteger(now) || now < 0 || now > MAX_TIME) throw new RangeError(`createId: time ${now} is outside 0..2^48-1 ms`)
  if (offset + 16 > pool.length) {
    randomFillSync(pool)
    offset = 0
  }
  let time = ''
  for (let t = now, i = 0; i < 10; i++, t = Math.floor(t / 32)) time = CROCKFORD[t % 32]! + time
  let id = time
  for (let i = 0; i < 16; i++) id += CROCKFORD[pool[offset++]! & 31]
  return id
}
