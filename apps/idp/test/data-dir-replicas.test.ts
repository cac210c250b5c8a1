/**
 * IdP replicas sharing one data directory (docker compose's shared volume,
 * `--scale idp=N`), started at the same moment on an empty one: every
 * replica must end up with the cookie keys and client secrets that are on
 * disk, or the admin CLI (which reads the file) is refused by some replicas
 * and a login breaks when the balancer switches replica.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { runNode } from '@mqtt-oidc/test-support/run-tsx'

const SCRIPT = fileURLToPath(new URL('./fixtures/load-data-dir-files.ts', import.meta.url))
const REPLICAS = 6
const ROUNDS = 5

let dir: string
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'mqtt-oidc-idp-replicas-'))
})
afterEach(() => rmSync(dir, { recursive: true, force: true }))

describe('IdP replicas started together on an empty data directory', () => {
  it(`all ${REPLICAS} use the cookie keys and client secrets on disk (${ROUNDS} rounds)`, async () => {
    for (let round = 0; round < ROUNDS; round++) {
      const dataDir = join(dir, `round-${round}`)
      // far enough ahead for every process to have loaded the code and be spinning
      const at = String(Date.now() + 4000)
      const runs = await Promise.all(Array.from({ length: REPLICAS }, () => runNode(SCRIPT, [dataDir, at])))
      for (const run of runs) expect(run.code, run.stderr).toBe(0)
      const onDisk = {
        cookieKeys: (JSON.parse(readFileSync(join(dataDir, 'idp-cookie-keys.json'), 'utf8')) as { keys: string[] }).keys,
        admin: (JSON.parse(readFileSync(join(dataDir, 'admin-client.json'), 'utf8')) as { clientSecret: string }).clientSecret,
        console: (JSON.parse(readFileSync(join(dataDir, 'console-client.json'), 'utf8')) as { clientSecret: string }).clientSecret,
      }
      expect(runs.map((run) => JSON.parse(run.stdout) as unknown)).toEqual(Array.from({ length: REPLICAS }, () => onDisk))
      expect(readdirSync(dataDir).filter((f) => f.endsWith('.tmp'))).toEqual([])
    }
  }, 120_000)
})
