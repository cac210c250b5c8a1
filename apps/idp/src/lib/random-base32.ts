import { randomBytes } from 'node:crypto'

const ALPHABET = 'abcdefghijklmnopqrstuvwxyz234567'

/** `length` random characters of lowercase RFC 4648 base32 (5 bits of entropy each). */
export function randomBase32(length: number): string {
  const bytes = randomBytes(length)
  let out = ''
  // 256 is a multiple of 32, so `byte % 32` is unbiased.
  for (const byte of bytes) out += ALPHABET[byte % 32]
  return out
}
