import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runOnTerminal } from '@mqtt-oidc/test-support/run-on-terminal'
import { BIN } from './support/cli-bin.js'
import { runNode } from '@mqtt-oidc/test-support/run-tsx'
import type { RunResult } from '@mqtt-oidc/test-support/run-tsx'
import { startTestStack, type TestStack } from './support/start-test-stack.js'

// `pnpm mqtt-oidc keys ...` and `broker delete --json` against the real stack (IdP issuing the
// admin client's access token, exchange), run through the CLI's bin launcher.

let stack: TestStack
let env: NodeJS.ProcessEnv
const cli = (args: string[]): Promise<RunResult> => runNode(BIN, args, { cwd: stack.dataDir, env })

beforeAll(async () => {
  stack = await startTestStack()
  env = { MQTT_OIDC_CLI_ISSUER: stack.idpUrl, MQTT_OIDC_CLI_EXCHANGE_URL: stack.exchangeUrl, MQTT_OIDC_DATA_DIR: stack.dataDir }
}, 60_000)
afterAll(async () => { await stack?.close() })

describe('mqtt-oidc keys (exchange signing keys through the admin API)', () => {
  it('`keys rotate --lead 10m` publishes a new key that signs later, and `keys list` shows both', async () => {
    const before = Math.floor(Date.now() / 1000)
    const rotated = await cli(['keys', 'rotate', '--lead', '10m'])
    expect(rotated.code, rotated.stderr).toBe(0)
    const result = JSON.parse(rotated.stdout) as { kid: string; alg: string; activatesAt: number; retiring: string }
    expect(result).toMatchObject({ alg: 'EdDSA', kid: expect.any(String), retiring: expect.any(String) })
    expect(result.activatesAt).toBeGreaterThanOrEqual(before + 600)
    expect(rotated.stderr).toMatch(new RegExp(`^Key ${result.kid} is published now and signs from `))

    const listed = await cli(['keys', 'list'])
    const keys = JSON.parse(listed.stdout) as { kid: string; published: boolean; retiredAt: number | null }[]
    expect(keys.filter((k) => k.published).map((k) => k.kid)).toEqual(expect.arrayContaining([result.kid, result.retiring]))
    const jwks = await (await fetch(`${stack.exchangeUrl}/.well-known/jwks.json`)).json() as { keys: { kid: string }[] }
    expect(jwks.keys.map((k) => k.kid)).toEqual(expect.arrayContaining([result.kid, result.retiring]))
  })

  it('`keys rotate` at a terminal shows the new key and the one it retires, with when each signs and retires', async () => {
    type Key = { kid: string; alg: string; signsFrom: number; retiredAt: number | null }
    const list = async (): Promise<Key[]> => JSON.parse((await cli(['keys', 'list'])).stdout) as Key[]
    const before = await list()
    const r = await runOnTerminal(BIN, ['keys', 'rotate', '--lead', '10m'], { cwd: stack.dataDir, env: { ...env, TZ: 'UTC' } })
    expect(r.code).toBe(0)
    const after = await list()
    const [added] = after.filter((k) => !before.some((b) => b.kid === k.kid))
    const retiring = after.find((k) => k.retiredAt === added!.signsFrom && before.some((b) => b.kid === k.kid && b.signsFrom <= Math.floor(Date.now() / 1000)))!
    const utc = (s: number): string => `${new Date(s * 1000).toISOString().slice(0, 19).replace('T', ' ')} +00:00`
    expect(r.stdout.split('\n').map((l) => l.split(/ {2,}/))).toEqual([
      ['KID', 'ALG', 'CHANGE', 'SIGNS FROM', 'RETIRES'],
      [added!.kid, 'EdDSA', 'new', utc(added!.signsFrom), '-'],
      [retiring.kid, retiring.alg, 'retiring', utc(retiring.signsFrom), utc(added!.signsFrom)],
      [`Key ${added!.kid} is published now and signs from ${new Date(added!.signsFrom * 1000).toISOString()}.`],
      [''],
    ])
  })

  it('`keys rotate --lead-time` still works, saying on stderr that it is deprecated', async () => {
    const before = Math.floor(Date.now() / 1000)
    const rotated = await cli(['keys', 'rotate', '--lead-time', '15m'])
    expect(rotated.code, rotated.stderr).toBe(0)
    expect((JSON.parse(rotated.stdout) as { activatesAt: number }).activatesAt - before).toBeGreaterThanOrEqual(900)
    expect(rotated.stderr.split('\n')[0]).toBe('mqtt-oidc: --lead-time is deprecated; use --lead')
    const both = await cli(['keys', 'rotate', '--lead', '15m', '--lead-time', '15m'])
    expect([both.code, both.stderr.trim()]).toEqual([1, 'mqtt-oidc: give --lead only (--lead-time is its deprecated spelling)'])
  })

  it('`keys rotate --lead 30s` warns that a lead that short is only safe for a single instance', async () => {
    const rotated = await cli(['keys', 'rotate', '--lead', '30s'])
    expect(rotated.code, rotated.stderr).toBe(0)
    expect(rotated.stderr.split('\n')[0]).toBe('mqtt-oidc: warning: with a lead under 90 s, a verifier may be shown a token before it can fetch its key (safe with a single instance)')
  })

  it('`keys rotate --alg HS256` is refused before anything is sent', async () => {
    const r = await cli(['keys', 'rotate', '--alg', 'HS256'])
    expect([r.code, r.stderr.trim()]).toEqual([1, 'mqtt-oidc: --alg must be EdDSA, ES256 or RS256'])
  })

  it('`broker delete --json` prints {id, deleted, revoked} on stdout', async () => {
    expect((await cli(['broker', 'create', 'tmp-broker'])).code).toBe(0)
    const r = await cli(['broker', 'delete', 'tmp-broker', '--json', '--yes'])
    expect([r.code, JSON.parse(r.stdout)]).toEqual([0, { id: 'tmp-broker', deleted: true, revoked: 0 }])
  })
})
