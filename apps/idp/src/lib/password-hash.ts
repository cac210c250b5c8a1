import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto'

/**
 * scrypt password hashes in the form documented by core's store.ts:
 * `scrypt$N$r$p$salt$hash`, salt and hash base64url.
 */
const DEFAULT_COST = { N: 2 ** 15, r: 8, p: 1 } as const
const KEY_LENGTH = 32
const SALT_LENGTH = 16
// Bounds for costs read back from storage: a tampered row must not make one
// login burn gigabytes of memory.
const MAX_N = 2 ** 20
const MAX_R = 32
const MAX_P = 16

function derive(password: string, salt: Buffer, cost: { N: number; r: number; p: number }, length: number): Promise<Buffer> {
  const options: ScryptOptions = { ...cost, maxmem: 256 * cost.N * cost.r + 1024 * 1024 }
  return new Promise((resolve, reject) => {
    scrypt(password.normalize('NFC'), salt, length, options, (err, key) => (err ? reject(err) : resolve(key)))
  })
}

/** Hashes a password with a fresh random salt. */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(SALT_LENGTH)
  const key = await derive(password, salt, DEFAULT_COST, KEY_LENGTH)
  const { N, r, p } = DEFAULT_COST
  return `scrypt$${N}$${r}$${p}$${salt.toString('base64url')}$${key.toString('base64url')}`
}

interface ParsedHash {
  N: number
  r: number
  p: number
  salt: Buffer
  key: Buffer
}

function parseHash(encoded: string): ParsedHash | undefined {
  const parts = encoded.split('$')
  if (parts.length !== 6 || parts[0] !== 'scrypt') return undefined
  const [N, r, p] = parts.slice(1, 4).map((v) => (/^\d{1,8}$/.test(v) ? Number(v) : Number.NaN)) as [number, number, number]
  const isPowerOfTwo = N > 1 && (N & (N - 1)) === 0
  if (!isPowerOfTwo || N > MAX_N || !(r >= 1 && r <= MAX_R) || !(p >= 1 && p <= MAX_P)) return undefined
  const salt = Buffer.from(parts[4] ?? '', 'base64url')
  const key = Buffer.from(parts[5] ?? '', 'base64url')
  if (salt.length < 8 || key.length < 16) return undefined
  return { N, r, p, salt, key }
}

/**
 * Verifies `password` against an encoded hash in constant time. A malformed
 * hash verifies as false (it never throws on bad stored data).
 */
export async function verifyPasswordHash(password: string, encoded: string): Promise<boolean> {
  const parsed = parseHash(encoded)
  if (!parsed) return false
  const key = await derive(password, parsed.salt, parsed, parsed.key.length)
  return timingSafeEqual(key, parsed.key)
}

let dummyHash: Promise<string> | undefined

/**
 * Burns the same scrypt work as a real verification, so that an unknown
 * username takes as long to refuse as a wrong password.
 */
export async function verifyAgainstDummy(password: string): Promise<false> {
  dummyHash ??= hashPassword(randomBytes(16).toString('base64url'))
  await verifyPasswordHash(password, await dummyHash)
  return false
}
