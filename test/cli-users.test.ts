import Database from 'better-sqlite3'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PassThrough } from 'node:stream'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createSqliteStore } from '@mqtt-oidc/store'
import { runCli } from '@mqtt-oidc/cli'
import { runCliInProcess } from './support/run-cli-in-process.js'
import { verifyAccountPassword } from '@mqtt-oidc/idp'

let dataDir: string

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'idp-cli-'))
  // The database `pnpm start` would have created.
  await createSqliteStore(join(dataDir, 'idp.sqlite')).close()
})
afterAll(() => { rmSync(dataDir, { recursive: true, force: true }) })

/** Runs `mqtt-oidc <args>` in-process with `stdin` piped in (not a terminal). */
const cli = (args: string[], stdin = '') => runCliInProcess(args, { dataDir, configDir: join(dataDir, 'cli') }, stdin)

async function withStore<T>(work: (store: ReturnType<typeof createSqliteStore>) => Promise<T>): Promise<T> {
  const store = createSqliteStore(join(dataDir, 'idp.sqlite'))
  try { return await work(store) } finally { await store.close() }
}

describe('mqtt-oidc users', () => {
  it('adds an account with client ids and groups, the password read from stdin', async () => {
    const res = await cli(['users', 'add', 'gw-owner', '--client-id', 'gw-17', '--client-id', 'gw-18', '--group', 'ops'], 'first-password\n')
    expect(res).toMatchObject({ code: 0, stderr: '' })
    const printed = JSON.parse(res.stdout) as Record<string, unknown>
    expect(printed).toEqual({ id: expect.any(String), username: 'gw-owner', clientIds: ['gw-17', 'gw-18'], groups: ['ops'], disabled: false, createdAt: expect.any(Number), clientIdMode: 'per-login' })
    expect(await withStore((store) => verifyAccountPassword(store, 'gw-owner', 'first-password'))).toMatchObject({ id: printed.id })
  })

  it('never takes a password as an argument', async () => {
    const res = await cli(['users', 'add', 'eve', '--password', 'in-the-history'], '')
    expect(res.code).toBe(1)
    expect(res.stderr).toBe("mqtt-oidc: unknown option '--password'\n")
  })

  it('refuses an empty stdin, a short password and a taken name with one line each', async () => {
    expect(await cli(['users', 'add', 'eve'], '')).toMatchObject({ code: 1, stderr: 'mqtt-oidc: no password on stdin: pipe one line, or run at a terminal to be prompted\n' })
    expect(await cli(['users', 'add', 'eve'], 'short\n')).toMatchObject({ code: 1, stderr: 'mqtt-oidc: password must be 8-1024 characters\n' })
    expect((await cli(['users', 'add', 'gw-owner'], 'another-password\n')).code).toBe(1)
  })

  it('lists accounts without their password hashes', async () => {
    const res = await cli(['users', 'list'])
    expect(res.code).toBe(0)
    expect(res.stdout).not.toContain('scrypt')
    expect((JSON.parse(res.stdout) as Array<{ username: string }>).map((a) => a.username)).toEqual(['gw-owner'])
  })

  it('changes a password, disables and enables an account', async () => {
    expect(await cli(['users', 'passwd', 'gw-owner'], 'second-password\n')).toMatchObject({ code: 0, stderr: 'Password of gw-owner changed.\n' })
    expect(await withStore((store) => verifyAccountPassword(store, 'gw-owner', 'first-password'))).toBeUndefined()
    expect(await withStore((store) => verifyAccountPassword(store, 'gw-owner', 'second-password'))).toBeDefined()

    expect(await cli(['users', 'disable', 'gw-owner'])).toMatchObject({ code: 0, stderr: 'Disabled gw-owner.\n' })
    expect(await withStore((store) => store.accounts.findByUsername('gw-owner'))).toMatchObject({ disabled: true })
    expect(await cli(['users', 'enable', 'gw-owner'])).toMatchObject({ code: 0, stderr: 'Enabled gw-owner.\n' })
    expect(await cli(['users', 'disable', 'nobody'])).toMatchObject({ code: 1, stderr: 'mqtt-oidc: no account "nobody"\n' })
  })

  it('prompts twice at a terminal, echoing nothing, and honours backspace', async () => {
    const stdin = Object.assign(new PassThrough(), { isTTY: true, setRawMode: () => stdin })
    const stdout = new PassThrough()
    const stderr = new PassThrough()
    let err = ''
    stderr.on('data', (chunk: Buffer) => {
      err += chunk.toString()
      if (err.endsWith('New password for gw-owner: ')) stdin.write('third-passx\u007fword\r')
      if (err.endsWith('Repeat the password: ')) stdin.write('third-password\r')
    })
    const code = await runCli(['users', 'passwd', 'gw-owner'], { stdout, stderr, stdin, env: { dataDir, configDir: join(dataDir, 'cli') } })
    expect(code).toBe(0)
    expect(err).toBe('New password for gw-owner: \nRepeat the password: \nPassword of gw-owner changed.\n')
    // Backspace (DEL) edits the line as a terminal would.
    expect(await withStore((store) => verifyAccountPassword(store, 'gw-owner', 'third-password'))).toBeDefined()
  })

  it('says where the database should be when there is none', async () => {
    const res = await cli(['users', 'list', '--data-dir', join(dataDir, 'missing')])
    expect(res).toMatchObject({ code: 1, stderr: `mqtt-oidc: no IdP database at ${join(dataDir, 'missing', 'idp.sqlite')}: run \`pnpm start\` once, or pass --data-dir (or --store for a shared PostgreSQL store)\n` })
  })

  it('adds a shared-client-id account, and `users set` switches the client id mode', async () => {
    const added = await cli(['users', 'add', 'kiosk', '--client-id', 'kiosk-1', '--shared-client-id'], 'kiosk-password\n')
    expect(added.code).toBe(0)
    expect(JSON.parse(added.stdout)).toMatchObject({ username: 'kiosk', clientIds: ['kiosk-1'], clientIdMode: 'shared' })
    const set = await cli(['users', 'set', 'kiosk', '--per-login-client-id'])
    expect(set).toMatchObject({ code: 0, stderr: '' })
    expect(JSON.parse(set.stdout)).toMatchObject({ username: 'kiosk', clientIdMode: 'per-login' })
    expect(await withStore((store) => store.accounts.findByUsername('kiosk'))).toMatchObject({ clientIdMode: 'per-login' })
    expect(JSON.parse((await cli(['users', 'set', 'kiosk', '--shared-client-id'])).stdout)).toMatchObject({ clientIdMode: 'shared' })
    expect(await cli(['users', 'set', 'kiosk'])).toMatchObject({ code: 1, stderr: 'mqtt-oidc: give --client-id, --shared-client-id or --per-login-client-id\n' })
    expect(await cli(['users', 'set', 'kiosk', '--shared-client-id', '--per-login-client-id'])).toMatchObject({ code: 1, stderr: 'mqtt-oidc: give at most one of --shared-client-id, --per-login-client-id\n' })
    expect(await cli(['users', 'set', 'nobody', '--shared-client-id'])).toMatchObject({ code: 1, stderr: 'mqtt-oidc: no account "nobody"\n' })
  })
})

describe('mqtt-oidc users: one owner per MQTT client id', () => {
  it('refuses to add an account with a client id another account holds, saying whose, and adds nothing', async () => {
    expect((await cli(['users', 'add', 'demo', '--client-id', 'demo-7'], 'demo-password\n')).code).toBe(0)
    expect(await cli(['users', 'add', 'mallory', '--client-id', 'demo-7'], 'mallory-password\n')).toEqual({
      code: 1, stdout: '', stderr: 'mqtt-oidc: client id "demo-7" belongs to account "demo"; pick another, or take it from demo first (users set demo --client-id ...)\n',
    })
    expect(await withStore((store) => store.accounts.findByUsername('mallory'))).toBeUndefined()
  })

  it('replaces an account\'s client ids with `users set --client-id`, refusing one held by another account', async () => {
    expect((await cli(['users', 'add', 'trent', '--client-id', 'trent-1'], 'trent-password\n')).code).toBe(0)
    expect(await cli(['users', 'set', 'trent', '--client-id', 'trent-1', '--client-id', 'demo-7'])).toEqual({
      code: 1, stdout: '', stderr: 'mqtt-oidc: client id "demo-7" belongs to account "demo"; pick another, or take it from demo first (users set demo --client-id ...)\n',
    })
    const set = await cli(['users', 'set', 'trent', '--client-id', 'trent-2', '--client-id', 'trent-1'])
    expect(set).toMatchObject({ code: 0, stderr: '' })
    expect(JSON.parse(set.stdout)).toMatchObject({ username: 'trent', clientIds: ['trent-2', 'trent-1'] })
    // demo gives demo-7 up: now trent may take it.
    expect((await cli(['users', 'set', 'demo', '--client-id', 'demo-8'])).code).toBe(0)
    expect(JSON.parse((await cli(['users', 'set', 'trent', '--client-id', 'demo-7'])).stdout)).toMatchObject({ clientIds: ['demo-7'] })
  })

  it('refuses client ids that could widen an ACL, on add and on set', async () => {
    expect(await cli(['users', 'add', 'eve', '--client-id', 'a/+/#'], 'eve-password-1\n')).toEqual({
      code: 1, stdout: '', stderr: 'mqtt-oidc: client id "a/+/#" may not contain "/", "+" or "#"\n',
    })
    expect(await cli(['users', 'set', 'trent', '--client-id', '$SYS'])).toEqual({
      code: 1, stdout: '', stderr: 'mqtt-oidc: client id "$SYS" may not start with "$"\n',
    })
  })

  it('lists client ids several accounts held before ownership was recorded, and `users set` resolves them', async () => {
    // What an old database looks like after the migration: one id in two accounts' lists, owned by neither.
    const db = new Database(join(dataDir, 'idp.sqlite'))
    db.prepare("UPDATE accounts SET client_ids = ? WHERE username = 'trent'").run(JSON.stringify(['demo-7', 'shared-1']))
    db.prepare("UPDATE accounts SET client_ids = ? WHERE username = 'kiosk'").run(JSON.stringify(['kiosk-1', 'shared-1']))
    db.prepare("INSERT INTO client_id_owners (client_id, source, created_at) VALUES ('shared-1', 'conflict', 0)").run()
    db.close()
    expect(await cli(['users', 'conflicts'])).toEqual({
      code: 0, stderr: '', stdout: `${JSON.stringify([{ clientId: 'shared-1', usernames: ['kiosk', 'trent'] }], null, 2)}\n`,
    })
    expect((await cli(['users', 'set', 'kiosk', '--client-id', 'kiosk-1'])).code).toBe(0)
    expect(JSON.parse((await cli(['users', 'conflicts'])).stdout)).toEqual([])
    expect(await withStore((store) => store.clientIds.holder('shared-1', Math.floor(Date.now() / 1000)))).toMatchObject({ source: 'configured' })
  })
})

describe('mqtt-oidc idp keys', () => {
  it('rotates: new keys published now sign after --lead (default 10 min, the lead of every key set), when the current ones retire', async () => {
    // No keys yet in this database: the IdP creates them at first start; rotate adds the first ones too.
    const first = await cli(['idp', 'keys', 'rotate', '--lead', '0'])
    expect(first.code).toBe(0)
    const firstAdded = (JSON.parse(first.stdout) as { added: string[] }).added
    const before = Math.floor(Date.now() / 1000)
    const second = await cli(['idp', 'keys', 'rotate'])
    expect(second.stderr).toMatch(/^The new keys sign from \S+Z; running IdP instances pick them up within a minute\.\n$/)
    const rotation = JSON.parse(second.stdout) as { added: string[]; retired: string[]; activatesAt: number }
    expect(rotation.added).toHaveLength(3)
    expect(rotation.retired.sort()).toEqual([...firstAdded].sort())
    expect(rotation.activatesAt - before).toBeGreaterThanOrEqual(600)
    expect(rotation.activatesAt - before).toBeLessThanOrEqual(602)
    const listed = JSON.parse((await cli(['idp', 'keys', 'list'])).stdout) as Array<{ kid: string; alg: string; createdAt: number; retiredAt: number | null }>
    // The old keys retire when the new ones start signing.
    expect(listed.filter((k) => firstAdded.includes(k.kid)).map((k) => k.retiredAt)).toEqual([rotation.activatesAt, rotation.activatesAt, rotation.activatesAt])
    expect(listed.filter((k) => rotation.added.includes(k.kid)).map((k) => [k.createdAt, k.retiredAt])).toEqual(Array(3).fill([rotation.activatesAt, null]))
    expect(JSON.stringify(listed)).not.toMatch(/"d"/)

    // Rotating again before then: the pending keys never sign; the current ones keep signing until the newest activate.
    const third = JSON.parse((await cli(['idp', 'keys', 'rotate', '--lead', '1m'])).stdout) as { added: string[]; retired: string[]; activatesAt: number }
    expect(third.retired.sort()).toEqual([...firstAdded].sort())
    const after = JSON.parse((await cli(['idp', 'keys', 'list'])).stdout) as Array<{ kid: string; retiredAt: number | null }>
    expect(after.filter((k) => firstAdded.includes(k.kid)).map((k) => k.retiredAt)).toEqual(Array(3).fill(third.activatesAt))
    expect(after.filter((k) => rotation.added.includes(k.kid)).every((k) => k.retiredAt !== null && k.retiredAt < third.activatesAt)).toBe(true)
  })

  it('refuses a bad --lead or --store before touching the store', async () => {
    expect(await cli(['idp', 'keys', 'rotate', '--lead', 'soon'])).toMatchObject({ code: 1, stdout: '' })
    expect(await cli(['idp', 'keys', 'list', '--store', 'mysql://db/x'])).toEqual({ code: 1, stdout: '', stderr: 'mqtt-oidc: --store / MQTT_OIDC_STORE must be a postgres:// URL (unset: the embedded SQLite store)\n' })
  })
})
