import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs'
import type * as fs from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { writeSecretFile, writeSecretFileIfAbsent } from '../src/write-secret-file.js'

/** link(2) as on a volume without hard links (an SMB share) while set; the real one otherwise. */
const noHardLinks = vi.hoisted(() => ({ on: false }))
vi.mock('node:fs', async (importOriginal) => {
  const real = await importOriginal<typeof fs>()
  return {
    ...real,
    linkSync: (...args: Parameters<typeof fs.linkSync>) => {
      if (noHardLinks.on) throw Object.assign(new Error('ENOTSUP: operation not supported on socket, link'), { code: 'ENOTSUP' })
      real.linkSync(...args)
    },
  }
})

let dir: string
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'mqtt-oidc-secret-file-'))
  noHardLinks.on = false
})
afterEach(() => rmSync(dir, { recursive: true, force: true }))

describe('writeSecretFile', () => {
  it('replaces the file whole, mode 0600', () => {
    const path = join(dir, 'secret')
    writeSecretFile(path, 'one\n')
    writeSecretFile(path, 'two\n')
    expect(readFileSync(path, 'utf8')).toBe('two\n')
    expect(statSync(path).mode & 0o777).toBe(0o600)
    expect(readdirSync(dir)).toEqual(['secret'])
  })
})

describe('writeSecretFileIfAbsent', () => {
  for (const links of [true, false]) {
    it(`creates the file once (mode 0600, in a 0700 directory), then leaves it as it is, no temporary file left${links ? '' : ': on a volume without hard links'}`, () => {
      noHardLinks.on = !links
      const path = join(dir, 'sub', 'secret.json')
      expect(writeSecretFileIfAbsent(path, 'first\n')).toBe(true)
      expect(writeSecretFileIfAbsent(path, 'second\n')).toBe(false)
      expect(readFileSync(path, 'utf8')).toBe('first\n')
      expect(statSync(path).mode & 0o777).toBe(0o600)
      expect(statSync(join(dir, 'sub')).mode & 0o777).toBe(0o700)
      expect(readdirSync(join(dir, 'sub'))).toEqual(['secret.json'])
    })
  }
})
