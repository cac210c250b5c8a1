import { createHash, generateKeyPairSync } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import type { BrokerTokenClaims } from '@mqtt-oidc/core'
import { createVerifiedCache } from '../src/lib/verified-cache.js'

const { publicKey: key } = generateKeyPairSync('ed25519')
const claims = { iss: 'i', aud: 'a', sub: 's', jti: 'j' } as BrokerTokenClaims
const entry = { claims, key }
// tokens shaped like JWTs, each with its own signature segment
const token = (n: number): string => `eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiJzIn0.${Buffer.from(`signature of token ${n}`).toString('base64url')}`

describe('createVerifiedCache', () => {
  it('keeps a token from its second offer on, not a token offered once', () => {
    const cache = createVerifiedCache(10)
    cache.offer(token(1), entry)
    expect(cache.get(token(1))).toBeUndefined()
    cache.offer(token(2), entry)
    cache.offer(token(1), entry)
    expect(cache.get(token(1))).toBe(entry)
    expect(cache.get(token(2))).toBeUndefined()
    expect(cache.size).toBe(1)
  })

  it('remembers first sights of many tokens at once: a fleet reconnecting after a blip is cached on its way back', () => {
    // 200 tokens with signature-like endings (SHA-512 digests: the same every run), each seen once, then all again
    const tokens = Array.from({ length: 200 }, (_, i) => `h.p.${createHash('sha512').update(String(i)).digest('base64url')}`)
    const cache = createVerifiedCache(1000)
    for (const t of tokens) cache.offer(t, entry)
    for (const t of tokens) cache.offer(t, entry)
    // a few first sights share a slot (about 5 of 200 in 4096 slots, each losing one or two; 186 here); nearly all are kept
    expect(cache.size).toBeGreaterThanOrEqual(180)
  })

  it('holds at most maxEntries tokens, the oldest admitted out first', () => {
    const cache = createVerifiedCache(2)
    for (const n of [1, 2, 3]) for (let sight = 0; sight < 2; sight++) cache.offer(token(n), entry)
    expect(cache.size).toBe(2)
    expect(cache.get(token(1))).toBeUndefined()
    expect([cache.get(token(2)), cache.get(token(3))]).toEqual([entry, entry])
  })

  it('a hit needs the whole token: the same signature under another payload misses', () => {
    const cache = createVerifiedCache(10)
    cache.offer(token(1), entry)
    cache.offer(token(1), entry)
    const signature = token(1).slice(token(1).lastIndexOf('.'))
    expect(cache.get(`eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiJtYWxsb3J5In0${signature}`)).toBeUndefined()
  })

  it('maxEntries 0 keeps nothing', () => {
    const cache = createVerifiedCache(0)
    for (let sight = 0; sight < 3; sight++) cache.offer(token(1), entry)
    expect(cache.get(token(1))).toBeUndefined()
    expect(cache.size).toBe(0)
  })
})
