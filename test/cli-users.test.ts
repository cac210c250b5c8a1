import Database from 'better-sqlite3'
import { join } from 'node:path'
import { PassThrough } from 'node:stream'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runCli } from '@mqtt-oidc/cli'
import { verifyAccountPassword } from '@mqtt-oidc/idp'
import { runOnTerminal } from '@mqtt-oidc/test-support/run-on-terminal'
import { runCliInProcess } from './support/run-cli-in-process.js'
import { BIN } from './support/cli-bin.js'
import { startTestStack, type TestStack } from './support/start-test-stack.js'

// `mqtt-oidc users ...` and `idp keys ...` against a running IdP, through its
// admin API as the admin client of the stack's data dir: the CLI never opens
// the IdP's database (as from a laptop).

let stack: TestStack

beforeAll(async () => { stack = await startTestStack() })
afterAll(async () => { await stack?.close() })

/** Runs `mqtt-oidc <args>` in-process with `stdin` piped in (not a terminal). */
const cli = (args: string[], stdin = '') => runCliInProcess(args, { dataDir: stack.dataDir, configDir: stack.configDir }, stdin)
const verify = (username: string, password: string) => verifyAccountPassword(stack.idpStore, username, password)
/** `mqtt-oidc <args>` on a pseudo-terminal, in UTC: what a person sees, stdout and stderr together. */
const onTerminal = (args: string[]) => runOnTerminal(BIN, args, { env: { MQTT_OIDC_DATA_DIR: stack.dataDir, TZ: 'UTC' } })
/** Epoch seconds as a table shows them in UTC. */
const utc = (s: number): string => `${new Date(s * 1000).toISOString().slice(0, 19).replace('T', ' ')} +00:00`

describe('mqtt-oidc users', () => {
  it('adds an account with client ids and groups, the password read from stdin', async () => {
    const res = await cli(['users', 'add', 'gw-owner', '--client-id', 'gw-17', '--client-id', 'gw-18', '--group', 'ops'], 'first-password\n')
    expect(res).toMatchObject({ code: 0, stderr: '' })
    const printed = JSON.parse(res.stdout) as Record<string, unknown>
    expect(printed).toEqual({ id: expect.any(String), username: 'gw-owner', clientIds: ['gw-17', 'gw-18'], groups: ['ops'], disabled: false, createdAt: expect.any(Number), clientIdMode: 'per-login' })
    expect(await verify('gw-owner', 'first-password')).toMatchObject({ id: printed.id })
  })

  it('never takes a password as an argument', async () => {
    const res = await cli(['users', 'add', 'eve', '--password', 'in-the-history'], '')
    expect(res.code).toBe(1)
    expect(res.stderr).toBe("mqtt-oidc: unknown option '--password'\n")
  })

  it('refuses an empty stdin, a short password and a taken name with one line each', async () => {
    expect(await cli(['users', 'add', 'eve'], '')).toMatchObject({ code: 1, stderr: 'mqtt-oidc: no password on stdin: pipe one line, or run at a terminal to be prompted\n' })
    expect(await cli(['users', 'add', 'eve'], 'short\n')).toMatchObject({ code: 1, stderr: 'mqtt-oidc: a password is 8-1024 characters (this one has 5); nothing was changed\n' })
    expect(await cli(['users', 'add', 'gw-owner'], 'another-password\n')).toMatchObject({ code: 1, stderr: 'mqtt-oidc: admin API error: conflict (account "gw-owner" already exists)\n' })
  })

  it('lists accounts and shows one, without their password hashes', async () => {
    const res = await cli(['users', 'list'])
    expect(res.code).toBe(0)
    expect(res.stdout).not.toContain('scrypt')
    expect((JSON.parse(res.stdout) as Array<{ username: string }>).map((a) => a.username).sort()).toEqual(['demo', 'gw-owner'])
    expect(JSON.parse((await cli(['users', 'show', 'gw-owner'])).stdout)).toMatchObject({ username: 'gw-owner', clientIds: ['gw-17', 'gw-18'] })
  })

  it('changes a password, disables and enables an account', async () => {
    expect(await cli(['users', 'passwd', 'gw-owner'], 'second-password\n')).toMatchObject({ code: 0, stderr: 'Password of gw-owner changed.\n' })
    expect(await verify('gw-owner', 'first-password')).toBeUndefined()
    expect(await verify('gw-owner', 'second-password')).toBeDefined()

    expect(await cli(['users', 'disable', 'gw-owner'])).toMatchObject({
      code: 1, stderr: 'mqtt-oidc: users disable gw-owner changes things that cannot be undone: add --yes to confirm (not at a terminal, so not asked); nothing was changed\n',
    })
    expect(await stack.idpStore.accounts.findByUsername('gw-owner')).toMatchObject({ disabled: false })
    expect(await cli(['users', 'disable', 'gw-owner', '--yes'])).toMatchObject({ code: 0, stderr: 'Disabled gw-owner.\n' })
    expect(await stack.idpStore.accounts.findByUsername('gw-owner')).toMatchObject({ disabled: true })
    expect(await cli(['users', 'enable', 'gw-owner'])).toMatchObject({ code: 0, stderr: 'Enabled gw-owner.\n' })
    expect(await cli(['users', 'disable', 'nobody', '--yes'])).toMatchObject({ code: 1, stderr: 'mqtt-oidc: admin API error: not_found (no account "nobody")\n' })
  })

  it('prompts twice at a terminal, echoing nothing, and honours backspace', async () => {
    const stdin = Object.assign(new PassThrough(), { isTTY: true, setRawMode: () => stdin })
    const stdout = new PassThrough()
    const stderr = new PassThrough()
    let err = ''
    stderr.on('data', (chunk: Buffer) => {
      err += chunk.toString()
      if (err.endsWith('New password for gw-owner (8-1024 characters): ')) stdin.write('third-passx\u007fword\r')
      if (err.endsWith('Repeat the password: ')) stdin.write('third-password\r')
    })
    const code = await runCli(['users', 'passwd', 'gw-owner'], { stdout, stderr, stdin, env: { dataDir: stack.dataDir, configDir: stack.configDir } })
    expect(code).toBe(0)
    expect(err).toBe('New password for gw-owner (8-1024 characters): \nRepeat the password: \nPassword of gw-owner changed.\n')
    // Backspace (DEL) edits the line as a terminal would.
    expect(await verify('gw-owner', 'third-password')).toBeDefined()
  })

  it('checks the password rule on the first entry, before asking to repeat it, and changes nothing', async () => {
    const stdin = Object.assign(new PassThrough(), { isTTY: true, setRawMode: () => stdin })
    const stderr = new PassThrough()
    let err = ''
    stderr.on('data', (chunk: Buffer) => {
      err += chunk.toString()
      if (err.endsWith('New password for gw-owner (8-1024 characters): ')) stdin.write('short\r')
    })
    const code = await runCli(['users', 'passwd', 'gw-owner'], { stdout: new PassThrough(), stderr, stdin, env: { dataDir: stack.dataDir, configDir: stack.configDir } })
    expect(code).toBe(1)
    expect(err).toBe('New password for gw-owner (8-1024 characters): \nmqtt-oidc: a password is 8-1024 characters (this one has 5); nothing was changed\n')
    expect(await verify('gw-owner', 'third-password')).toBeDefined()
  })

  it('lists accounts as a table on a terminal, with local times', async () => {
    const accounts = await stack.idpStore.accounts.list()
    const r = await runOnTerminal(BIN, ['users', 'list'], { env: { MQTT_OIDC_DATA_DIR: stack.dataDir, TZ: 'UTC' } })
    expect(r.code).toBe(0)
    const lines = r.stdout.split('\n')
    expect(lines[0]).toMatch(/^USERNAME +CLIENT IDS +MODE +GROUPS +DISABLED +CREATED$/)
    const owner = accounts.find((a) => a.username === 'gw-owner')!
    const created = `${new Date(owner.createdAt * 1000).toISOString().slice(0, 19).replace('T', ' ')} \\+00:00`
    expect(lines.find((l) => l.startsWith('gw-owner '))).toMatch(new RegExp(`^gw-owner +gw-17,gw-18 +per-login +ops +no +${created}$`))
    expect(lines).toHaveLength(accounts.length + 2) // the header, one line each, and the final newline
  })

  it('says where the admin credential should be when there is none', async () => {
    const missing = join(stack.dataDir, 'missing')
    expect(await cli(['users', 'list', '--data-dir', missing])).toEqual({
      code: 1, stdout: '', stderr: `mqtt-oidc: admin credentials ${join(missing, 'admin-client.json')} not found: start the stack (pnpm start) or pass --data-dir\n`,
    })
  })

  it('refuses --store, which opened the database before the admin API, saying what replaced it', async () => {
    const gone = 'mqtt-oidc: --store is gone: users and idp keys go through the IdP\'s admin API as the admin client in <data-dir>/admin-client.json (--data-dir; --issuer for another IdP URL), never its database\n'
    expect(await cli(['users', 'list', '--store', 'postgres://db/x'])).toEqual({ code: 1, stdout: '', stderr: gone })
    expect(await cli(['idp', 'keys', 'rotate', '--store', 'postgres://db/x'])).toEqual({ code: 1, stdout: '', stderr: gone })
  })

  it('adds a shared-client-id account, and `users set` switches the client id mode and replaces the groups', async () => {
    const added = await cli(['users', 'add', 'kiosk', '--client-id', 'kiosk-1', '--shared-client-id'], 'kiosk-password\n')
    expect(added.code).toBe(0)
    expect(JSON.parse(added.stdout)).toMatchObject({ username: 'kiosk', clientIds: ['kiosk-1'], clientIdMode: 'shared' })
    const set = await cli(['users', 'set', 'kiosk', '--per-login-client-id'])
    expect(set).toMatchObject({ code: 0, stderr: '' })
    expect(JSON.parse(set.stdout)).toMatchObject({ username: 'kiosk', clientIdMode: 'per-login' })
    expect(await stack.idpStore.accounts.findByUsername('kiosk')).toMatchObject({ clientIdMode: 'per-login' })
    expect(JSON.parse((await cli(['users', 'set', 'kiosk', '--shared-client-id'])).stdout)).toMatchObject({ clientIdMode: 'shared' })
    expect(JSON.parse((await cli(['users', 'set', 'kiosk', '--group', 'lobby', '--group', 'ops'])).stdout)).toMatchObject({ groups: ['lobby', 'ops'] })
    expect(JSON.parse((await cli(['users', 'set', 'kiosk', '--no-groups'])).stdout)).toMatchObject({ groups: [] })
    expect(await cli(['users', 'set', 'kiosk'])).toMatchObject({ code: 1, stderr: 'mqtt-oidc: give --client-id, --group, --no-groups, --shared-client-id or --per-login-client-id\n' })
    expect(await cli(['users', 'set', 'kiosk', '--shared-client-id', '--per-login-client-id'])).toMatchObject({ code: 1, stderr: 'mqtt-oidc: give at most one of --shared-client-id, --per-login-client-id\n' })
    expect(await cli(['users', 'set', 'nobody', '--shared-client-id'])).toMatchObject({ code: 1, stderr: 'mqtt-oidc: admin API error: not_found (no account "nobody")\n' })
  })
})

describe('mqtt-oidc users delete', () => {
  it('deletes an account after --yes (asks at a terminal), ends its sign-ins and frees its client ids', async () => {
    expect((await cli(['users', 'add', 'temp', '--client-id', 'temp-1'], 'temp-password\n')).code).toBe(0)
    expect(await cli(['users', 'delete', 'temp'])).toEqual({
      code: 1, stdout: '', stderr: 'mqtt-oidc: users delete temp changes things that cannot be undone: add --yes to confirm (not at a terminal, so not asked); nothing was changed\n',
    })
    expect(await stack.idpStore.accounts.findByUsername('temp')).toBeDefined()
    const no = await runOnTerminal(BIN, ['users', 'delete', 'temp'], { env: { MQTT_OIDC_DATA_DIR: stack.dataDir }, input: 'n\n' })
    expect(no.code).toBe(1)
    expect(no.stdout).toContain('Delete temp (client ids temp-1)? Their sign-ins end and their broker credentials are revoked; this cannot be undone. [y/N] ')
    expect(await stack.idpStore.accounts.findByUsername('temp')).toBeDefined()

    const account = (await stack.idpStore.accounts.findByUsername('temp'))!
    expect(await cli(['users', 'delete', 'temp', '--yes'])).toEqual({ code: 0, stdout: '', stderr: 'Deleted temp; client ids temp-1 are free.\n' })
    expect(await stack.idpStore.accounts.findByUsername('temp')).toBeUndefined()
    // Its ID tokens stay refused (the cutoff outlives the account), and its client id can go to someone else.
    expect(await stack.idpStore.cutoffs.get(account.id)).toBeDefined()
    expect(JSON.parse((await cli(['users', 'add', 'heir', '--client-id', 'temp-1'], 'heir-password\n')).stdout)).toMatchObject({ username: 'heir', clientIds: ['temp-1'] })
    expect(await cli(['users', 'delete', 'temp', '--yes', '--json'])).toEqual({ code: 1, stdout: '', stderr: 'mqtt-oidc: admin API error: not_found (no account "temp")\n' })
  })
})

describe('mqtt-oidc users: one owner per MQTT client id', () => {
  it('refuses to add an account with a client id another account holds, saying whose, and adds nothing', async () => {
    expect((await cli(['users', 'add', 'dana', '--client-id', 'dana-7'], 'dana-password\n')).code).toBe(0)
    expect(await cli(['users', 'add', 'mallory', '--client-id', 'dana-7'], 'mallory-password\n')).toEqual({
      code: 1, stdout: '', stderr: 'mqtt-oidc: admin API error: conflict (client id "dana-7" belongs to account "dana"; pick another, or take it from dana first (users set dana --client-id ...))\n',
    })
    expect(await stack.idpStore.accounts.findByUsername('mallory')).toBeUndefined()
  })

  it('replaces an account\'s client ids with `users set --client-id`, refusing one held by another account', async () => {
    expect((await cli(['users', 'add', 'trent', '--client-id', 'trent-1'], 'trent-password\n')).code).toBe(0)
    expect(await cli(['users', 'set', 'trent', '--client-id', 'trent-1', '--client-id', 'dana-7'])).toEqual({
      code: 1, stdout: '', stderr: 'mqtt-oidc: admin API error: conflict (client id "dana-7" belongs to account "dana"; pick another, or take it from dana first (users set dana --client-id ...))\n',
    })
    const set = await cli(['users', 'set', 'trent', '--client-id', 'trent-2', '--client-id', 'trent-1'])
    expect(set).toMatchObject({ code: 0, stderr: '' })
    expect(JSON.parse(set.stdout)).toMatchObject({ username: 'trent', clientIds: ['trent-2', 'trent-1'] })
    // dana gives dana-7 up: now trent may take it.
    expect((await cli(['users', 'set', 'dana', '--client-id', 'dana-8'])).code).toBe(0)
    expect(JSON.parse((await cli(['users', 'set', 'trent', '--client-id', 'dana-7'])).stdout)).toMatchObject({ clientIds: ['dana-7'] })
  })

  it('refuses client ids that could widen an ACL, on add and on set', async () => {
    expect(await cli(['users', 'add', 'eve', '--client-id', 'a/+/#'], 'eve-password-1\n')).toEqual({
      code: 1, stdout: '', stderr: 'mqtt-oidc: admin API error: invalid_request (client id "a/+/#" may not contain "/", "+" or "#")\n',
    })
    expect(await cli(['users', 'set', 'trent', '--client-id', '$SYS'])).toEqual({
      code: 1, stdout: '', stderr: 'mqtt-oidc: admin API error: invalid_request (client id "$SYS" may not start with "$")\n',
    })
  })

  it('lists client ids several accounts held before ownership was recorded, and `users set` resolves them', async () => {
    // What an old database looks like after the migration: one id in two accounts' lists, owned by neither.
    const db = new Database(join(stack.dataDir, 'idp.sqlite'))
    db.prepare("UPDATE accounts SET client_ids = ? WHERE username = 'trent'").run(JSON.stringify(['dana-7', 'shared-1']))
    db.prepare("UPDATE accounts SET client_ids = ? WHERE username = 'kiosk'").run(JSON.stringify(['kiosk-1', 'shared-1']))
    db.prepare("INSERT INTO client_id_owners (client_id, source, created_at) VALUES ('shared-1', 'conflict', 0)").run()
    db.close()
    expect(await cli(['users', 'conflicts'])).toEqual({
      code: 0, stderr: '', stdout: `${JSON.stringify([{ clientId: 'shared-1', usernames: ['kiosk', 'trent'] }], null, 2)}\n`,
    })
    expect(await onTerminal(['users', 'conflicts'])).toMatchObject({
      code: 0,
      stdout: 'CLIENT ID  ACCOUNTS\nshared-1   kiosk, trent\nNobody gets these client ids until `users set` takes each from all accounts but one.\n',
    })
    expect(JSON.parse((await onTerminal(['users', 'conflicts', '--json'])).stdout)).toEqual([{ clientId: 'shared-1', usernames: ['kiosk', 'trent'] }])
    expect((await cli(['users', 'set', 'kiosk', '--client-id', 'kiosk-1'])).code).toBe(0)
    expect(JSON.parse((await cli(['users', 'conflicts'])).stdout)).toEqual([])
    expect(await onTerminal(['users', 'conflicts'])).toMatchObject({ code: 0, stdout: 'No client id is held by two accounts.\n' })
    expect(await stack.idpStore.clientIds.holder('shared-1', Math.floor(Date.now() / 1000))).toMatchObject({ source: 'configured' })
  })
})

describe('mqtt-oidc idp keys', () => {
  it('rotates: new keys published now sign after --lead (default 10 min, the lead of every key set), when the current ones retire', async () => {
    const first = JSON.parse((await cli(['idp', 'keys', 'list'])).stdout) as Array<{ kid: string }>
    const firstKids = first.map((k) => k.kid)
    expect(firstKids).toHaveLength(3)
    const before = Math.floor(Date.now() / 1000)
    const second = await cli(['idp', 'keys', 'rotate'])
    expect(second.stderr).toMatch(/^The new keys sign from \S+Z; running IdP instances pick them up within a minute\.\n$/)
    const rotation = JSON.parse(second.stdout) as { added: string[]; retired: string[]; activatesAt: number }
    expect(rotation.added).toHaveLength(3)
    expect(rotation.retired.sort()).toEqual([...firstKids].sort())
    expect(rotation.activatesAt - before).toBeGreaterThanOrEqual(600)
    expect(rotation.activatesAt - before).toBeLessThanOrEqual(602)
    const listed = JSON.parse((await cli(['idp', 'keys', 'list'])).stdout) as Array<{ kid: string; alg: string; createdAt: number; retiredAt: number | null }>
    // The old keys retire when the new ones start signing.
    expect(listed.filter((k) => firstKids.includes(k.kid)).map((k) => k.retiredAt)).toEqual([rotation.activatesAt, rotation.activatesAt, rotation.activatesAt])
    expect(listed.filter((k) => rotation.added.includes(k.kid)).map((k) => [k.createdAt, k.retiredAt])).toEqual(Array(3).fill([rotation.activatesAt, null]))
    expect(JSON.stringify(listed)).not.toMatch(/"d"/)

    // Rotating again before then: the pending keys never sign; the current ones keep signing until the newest activate.
    const third = JSON.parse((await cli(['idp', 'keys', 'rotate', '--lead', '1m'])).stdout) as { added: string[]; retired: string[]; activatesAt: number }
    expect(third.retired.sort()).toEqual([...firstKids].sort())
    const after = JSON.parse((await cli(['idp', 'keys', 'list'])).stdout) as Array<{ kid: string; retiredAt: number | null }>
    expect(after.filter((k) => firstKids.includes(k.kid)).map((k) => k.retiredAt)).toEqual(Array(3).fill(third.activatesAt))
    expect(after.filter((k) => rotation.added.includes(k.kid)).every((k) => k.retiredAt !== null && k.retiredAt < third.activatesAt)).toBe(true)
  })

  it('rotate at a terminal shows the new keys and the ones they retire (kid, alg, when each signs and retires); --json as before', async () => {
    type Key = { kid: string; alg: string; createdAt: number; retiredAt: number | null }
    const before = JSON.parse((await cli(['idp', 'keys', 'list'])).stdout) as Key[]
    const r = await onTerminal(['idp', 'keys', 'rotate', '--lead', '5m'])
    expect(r.code).toBe(0)
    const after = JSON.parse((await cli(['idp', 'keys', 'list'])).stdout) as Key[]
    const added = after.filter((k) => !before.some((b) => b.kid === k.kid))
    expect(added).toHaveLength(3)
    const activatesAt = added[0]!.createdAt
    const retiring = after.filter((k) => k.retiredAt === activatesAt && before.some((b) => b.kid === k.kid && b.createdAt <= Math.floor(Date.now() / 1000)))
    const lines = r.stdout.split('\n')
    expect(lines[0]).toMatch(/^KID +ALG +CHANGE +SIGNS FROM +RETIRES$/)
    const cells = lines.slice(1, 1 + added.length + retiring.length).map((l) => l.split(/ {2,}/))
    expect(cells.sort()).toEqual([
      ...added.map((k) => [k.kid, k.alg, 'new', utc(activatesAt), '-']),
      ...retiring.map((k) => [k.kid, k.alg, 'retiring', utc(k.createdAt), utc(activatesAt)]),
    ].sort())
    expect(lines.slice(1 + added.length + retiring.length)).toEqual([
      `The new keys sign from ${new Date(activatesAt * 1000).toISOString()}; running IdP instances pick them up within a minute.`,
      '',
    ])
    // --json at a terminal: {added, retired, activatesAt} as before (the sentence after it is stderr's).
    const json = await onTerminal(['idp', 'keys', 'rotate', '--lead', '5m', '--json'])
    const rotation = JSON.parse(json.stdout.slice(0, json.stdout.indexOf('The new keys'))) as { added: string[]; retired: string[]; activatesAt: number }
    const latest = (JSON.parse((await cli(['idp', 'keys', 'list'])).stdout) as Key[]).filter((k) => !after.some((a) => a.kid === k.kid))
    expect({ ...rotation, added: [...rotation.added].sort() }).toEqual({ added: latest.map((k) => k.kid).sort(), retired: rotation.retired, activatesAt: latest[0]!.createdAt })
    expect(rotation.retired.sort()).toEqual(retiring.map((k) => k.kid).sort())
  })

  it('refuses a bad --lead before calling the IdP', async () => {
    expect(await cli(['idp', 'keys', 'rotate', '--lead', 'soon'])).toMatchObject({ code: 1, stdout: '' })
  })
})
