import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createTokenStore } from '../src/create-token-store.js'
import type { TokenSet } from '../src/token-set.js'
import { runNode } from '@mqtt-oidc/test-support/run-tsx'

const WORKER = fileURLToPath(new URL('./support/store-worker.ts', import.meta.url))
const key = { issuer: 'http://localhost:4000', clientId: 'mqtt-oidc-cli' }
const tokens: TokenSet = { idToken: 'id.token.x', refreshToken: 'rt-1', expiresAt: 2_000_000_000, scope: 'openid' }

let dir: string
beforeEach(() => {
  dir = join(mkdtempSync(join(tmpdir(), 'mqtt-oidc-store-')), 'config', 'mqtt-oidc')
})
afterEach(() => rmSync(join(dir, '..', '..'), { recursive: true, force: true }))

describe('createTokenStore (file tokens.json)', () => {
  it('round-trips a token set per issuer and client, and deletes it', async () => {
    const store = createTokenStore(dir)
    expect(await store.get(key)).toBeUndefined()
    await store.set(key, tokens)
    await store.set({ ...key, clientId: 'other' }, { ...tokens, idToken: 'other' })
    expect(await store.get(key)).toEqual(tokens)
    expect(await store.get({ ...key, issuer: 'http://localhost:4000/' })).toEqual(tokens) // same issuer
    expect(Object.keys(JSON.parse(readFileSync(store.path, 'utf8')))).toEqual(['http://localhost:4000|mqtt-oidc-cli', 'http://localhost:4000|other'])
    expect(await store.delete(key)).toBe(true)
    expect(await store.delete(key)).toBe(false)
    expect(await store.get(key)).toBeUndefined()
    expect((await store.get({ ...key, clientId: 'other' }))?.idToken).toBe('other')
  })

  it('writes tokens.json with mode 0600 in a directory with mode 0700', async () => {
    const store = createTokenStore(dir)
    await store.set(key, tokens)
    expect(store.path).toBe(join(dir, 'tokens.json'))
    expect(statSync(store.path).mode & 0o777).toBe(0o600)
    expect(statSync(dir).mode & 0o777).toBe(0o700)
  })

  it('leaves no temp or lock file behind, and every write replaces the file whole', async () => {
    const store = createTokenStore(dir)
    await Promise.all(Array.from({ length: 20 }, (_, i) => store.set({ ...key, clientId: `c${i}` }, { ...tokens, expiresAt: i })))
    expect(readdirSync(dir)).toEqual(['tokens.json'])
    const all = JSON.parse(readFileSync(store.path, 'utf8')) as Record<string, TokenSet>
    expect(Object.keys(all)).toHaveLength(20)
  })

  it('serialises update(): concurrent read-modify-writes never lose an increment', async () => {
    const a = createTokenStore(dir)
    const b = createTokenStore(dir)
    await Promise.all(
      Array.from({ length: 10 }, (_, i) => (i % 2 ? a : b).update(key, async (cur) => ({ idToken: 'x', expiresAt: (cur?.expiresAt ?? 0) + 1 }))),
    )
    expect((await a.get(key))?.expiresAt).toBe(10)
  })

  it('two processes writing at once lose neither updates nor keys', async () => {
    const n = 15
    const [one, two] = await Promise.all([runNode(WORKER, [dir, 'p1', String(n)]), runNode(WORKER, [dir, 'p2', String(n)])])
    expect([one.code, one.stderr, two.code, two.stderr]).toEqual([0, '', 0, ''])
    const store = createTokenStore(dir)
    expect((await store.get({ issuer: 'http://127.0.0.1:1', clientId: 'shared' }))?.expiresAt).toBe(2 * n)
    for (let i = 0; i < n; i += 1) {
      expect((await store.get({ issuer: 'http://127.0.0.1:1', clientId: `p1-${i}` }))?.idToken).toBe(`p1-${i}`)
      expect((await store.get({ issuer: 'http://127.0.0.1:1', clientId: `p2-${i}` }))?.idToken).toBe(`p2-${i}`)
    }
    expect(readdirSync(dir)).toEqual(['tokens.json'])
  })

  it('takes over a lock left by a process that died', async () => {
    const dead = spawn(process.execPath, ['-e', ''])
    const pid = dead.pid
    await new Promise((resolve) => dead.once('exit', resolve))
    const store = createTokenStore(dir)
    await store.set(key, tokens) // creates the directory
    writeFileSync(`${store.path}.lock`, `${pid}\n`)
    await store.set(key, { ...tokens, idToken: 'after' })
    expect((await store.get(key))?.idToken).toBe('after')
    expect(existsSync(`${store.path}.lock`)).toBe(false)
  })

  it('reports a corrupt tokens.json instead of silently dropping logins', async () => {
    const store = createTokenStore(dir)
    await store.set(key, tokens)
    writeFileSync(store.path, '{ not json')
    await expect(store.get(key)).rejects.toThrow(/not valid JSON: delete it and log in again/)
  })
})
