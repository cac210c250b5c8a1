import { readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { decodeJwt } from 'jose'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { writeSecretFile } from '@mqtt-oidc/core'
import { runCommand } from '@mqtt-oidc/test-support/run-command'
import { runNode, type RunResult } from '@mqtt-oidc/test-support/run-tsx'
import { runOnTerminal } from '@mqtt-oidc/test-support/run-on-terminal'
import type { Command } from 'commander'
import { PassThrough } from 'node:stream'
import { createProgram, readCliEnv } from '../src/index.js'
import { BIN } from './support/cli-bin.js'
import { startAdminFixture, type AdminFixture } from './support/start-admin-fixture.js'

// The CLI as a person meets it: on a real terminal (a pseudo-terminal made by
// util-linux `script`), tables with local times and questions before
// destroying anything; in a pipe, JSON and --yes. TZ is fixed so local time
// is known: Asia/Kolkata is UTC+05:30 all year.

let f: AdminFixture
const TZ = 'Asia/Kolkata'
const env = (): NodeJS.ProcessEnv => ({
  MQTT_OIDC_CLI_ISSUER: f.idp.issuer,
  MQTT_OIDC_CLI_EXCHANGE_URL: f.exchangeUrl,
  MQTT_OIDC_CLI_CONFIG_DIR: join(f.dir, 'config'),
  MQTT_OIDC_DATA_DIR: f.dataDir,
  TZ,
})
const cli = (args: string[], input?: string): Promise<RunResult> => runNode(BIN, args, { cwd: f.dir, env: env(), input })

/** `mqtt-oidc <args>` on a pseudo-terminal; `input` is typed into it. */
const onTerminal = (args: string[], input = ''): Promise<RunResult> => runOnTerminal(BIN, args, { cwd: f.dir, env: env(), input })

/** `2026-12-01 18:27:05 +05:30` for epoch seconds, in Asia/Kolkata. */
const kolkata = (epoch: number): string => `${new Date((epoch + 19800) * 1000).toISOString().slice(0, 19).replace('T', ' ')} +05:30`

beforeAll(async () => {
  f = await startAdminFixture('mqtt-oidc-cli-tty-')
  await f.admin.createBroker('demo', { expiration: '7d' })
})
afterAll(async () => {
  await f?.close()
})

describe('mqtt-oidc --version', () => {
  it('prints the package version with --version and -V', async () => {
    expect(await cli(['--version'])).toEqual({ code: 0, stdout: '0.1.0\n', stderr: '' })
    expect(await cli(['-V'])).toEqual({ code: 0, stdout: '0.1.0\n', stderr: '' })
  })

  it("says what became of pub's -V (now --mqtt-version), exit 1", async () => {
    expect(await cli(['pub', '-b', 'demo', '-t', 'x', '-m', 'y', '-V', '5'])).toEqual({
      code: 1,
      stdout: '',
      stderr: 'mqtt-oidc: -V is --version now: give the MQTT version as --mqtt-version 3.1.1 or --mqtt-version 5\n',
    })
  })
})

describe('--json', () => {
  it('is an option of every command but completion (which prints a shell script)', () => {
    const sink = new PassThrough()
    const leaves: string[] = []
    const walk = (cmd: Command, path: string): void => {
      if (cmd.commands.length === 0) leaves.push(path)
      if (cmd.commands.length === 0 && path !== 'completion')
        expect(
          cmd.options.map((o) => o.long),
          path,
        ).toContain('--json')
      for (const c of cmd.commands) walk(c, path === '' ? c.name() : `${path} ${c.name()}`)
    }
    walk(createProgram({ stdout: sink, stderr: sink, stdin: new PassThrough(), env: readCliEnv({}) }), '')
    expect(leaves).toEqual(
      expect.arrayContaining(['login', 'logout', 'pub', 'gateway', 'users add', 'users delete', 'keys list', 'keys rotate', 'idp keys list', 'completion']),
    )
    expect(leaves.length).toBeGreaterThan(35)
  })
})

describe('broker issue: jti with every credential, readable generated client ids', () => {
  it('--json gives each client id its token, jti, nbf and exp; a pipe gets the Cloudflare map', async () => {
    const r = await cli(['broker', 'issue', 'demo', '--number', '2', '--expiration', '1h', '--json'])
    expect([r.code, r.stderr]).toEqual([0, ''])
    const issued = JSON.parse(r.stdout) as Record<string, { token: string; jti: string; notBefore: number; expiresAt: number }>
    expect(Object.keys(issued)).toHaveLength(2)
    for (const [clientId, c] of Object.entries(issued)) {
      expect(clientId).toMatch(/^cred-[0-9a-hjkmnp-tv-z]{26}$/)
      const claims = decodeJwt(c.token)
      expect(c).toEqual({ token: c.token, jti: claims.jti, notBefore: claims.nbf, expiresAt: claims.exp })
      expect(c.jti).toMatch(/^[0-9A-HJKMNP-TV-Z]{26}$/)
    }
    const piped = await cli(['broker', 'issue', 'demo', '--client-id', 'pipe-1'])
    expect(Object.keys(JSON.parse(piped.stdout) as Record<string, string>)).toEqual(['pipe-1'])
    expect(typeof (JSON.parse(piped.stdout) as Record<string, unknown>)['pipe-1']).toBe('string')
  })

  it('shows a table (client id, jti, not before, expires in local time) and the tokens at a terminal', async () => {
    const r = await onTerminal(['broker', 'issue', 'demo', '--client-id', 'tty-1', '--expiration', '1h'])
    expect(r.code).toBe(0)
    const tokenLine = r.stdout.split('\n').find((l) => l.startsWith('tty-1 ey'))!
    const claims = decodeJwt(tokenLine.split(' ')[1]!)
    expect(r.stdout).toBe(
      [
        'CLIENT ID  JTI                         NOT BEFORE                  EXPIRES',
        `tty-1      ${claims.jti}  ${kolkata(claims.nbf!)}  ${kolkata(claims.exp!)}`,
        '',
        tokenLine,
        'Each token is the MQTT password of its client id (username: the client id, or empty). It is shown only now (--out <file> writes the tokens to a file instead).',
        '',
      ].join('\n'),
    )
  })
})

describe('tables at a terminal, JSON in a pipe', () => {
  it('broker list', async () => {
    expect((await onTerminal(['broker', 'list'])).stdout).toBe(
      ['BROKER  EXPIRATION  PROFILE  ALG    URL', 'demo    604800s     default  EdDSA  -', ''].join('\n'),
    )
    expect(JSON.parse((await cli(['broker', 'list'])).stdout)).toMatchObject([{ id: 'demo', expiration: 604800 }])
  })

  it('broker show-revocations, with revoked and expiry times in local time', async () => {
    const token = (await f.admin.issueCredentials('demo', { clientIds: ['rev-1'], expiration: '1h' }))['rev-1']!
    const { jti, exp } = decodeJwt(token)
    await f.admin.revoke('demo', [jti!])
    const [revocation] = (await f.admin.listRevocations('demo')).filter((r) => r.jti === jti)
    expect((await onTerminal(['broker', 'show-revocations', 'demo'])).stdout).toContain(`${jti}  ${kolkata(revocation!.revokedAt)}  ${kolkata(exp!)}`)
    expect((await onTerminal(['broker', 'show-revocations', 'demo'])).stdout.split('\n')[0]).toMatch(/^JTI {25}REVOKED {21}EXPIRES$/)
    expect(JSON.parse((await cli(['broker', 'show-revocations', 'demo'])).stdout)).toContainEqual({ jti, revokedAt: revocation!.revokedAt, expiresAt: exp })
    expect(JSON.parse((await onTerminal(['broker', 'show-revocations', 'demo', '--json'])).stdout)).toContainEqual({
      jti,
      revokedAt: revocation!.revokedAt,
      expiresAt: exp,
    })
  })

  it('keys list', async () => {
    const [key] = await f.admin.listKeys()
    expect((await onTerminal(['keys', 'list'])).stdout).toBe(
      [
        `KID${' '.repeat(key!.kid.length - 1)}ALG    SIGNS FROM                  RETIRED  PUBLISHED`,
        `${key!.kid}  ${key!.alg.padEnd(5)}  ${kolkata(key!.signsFrom)}  -        yes`,
        '',
      ].join('\n'),
    )
  })
})

describe('broker create, show and update: the broker as field lines at a terminal, JSON otherwise', () => {
  const fields = (b: Record<string, unknown>, lines: string[]): string =>
    [
      'FIELD               VALUE',
      ...lines,
      `created             ${kolkata(b.createdAt as number)}`,
      `updated             ${kolkata(b.updatedAt as number)}`,
      '',
    ].join('\n')

  it('create and show print the ACL and policy as one line each; update prints the changed broker', async () => {
    const created = await onTerminal([
      'broker',
      'create',
      'shown',
      '--expiration',
      '1d',
      '--url',
      'mqtt://plant:1883',
      '--acl-pub',
      'devices/${clientid}/#',
      '--acl-sub',
      'commands/#',
      '--acl-sub',
      'news/#',
      '--rate-limit',
      '10/1m',
      '--max-lifetime',
      '15m',
      '--acl-template',
      '{"when":{"group":"ops"},"acl":{"pub":["#"],"sub":["#"]}}',
    ])
    const broker = await f.admin.getBroker('shown')
    const lines = (expiration: string, alg: string, profile: string, rateLimit: string): string[] => [
      'id                  shown',
      'url                 mqtt://plant:1883',
      `expiration          ${expiration}`,
      'acl pub             devices/${clientid}/#',
      'acl sub             commands/#, news/#',
      'client id mode      claim',
      'acl templates       {"when":{"group":"ops"},"acl":{"pub":["#"],"sub":["#"]}}',
      'max lifetime        900s',
      `rate limit          ${rateLimit}`,
      `profile             ${profile}`,
      `alg                 ${alg}`,
      'allowed issuers     any trusted issuer',
      'resource server id  -',
    ]
    expect(created).toMatchObject({ code: 0, stdout: fields(broker, lines('86400s', 'EdDSA', 'default', '10 per 60s')) })
    expect(await onTerminal(['broker', 'show', 'shown'])).toMatchObject({ code: 0, stdout: fields(broker, lines('86400s', 'EdDSA', 'default', '10 per 60s')) })

    const updated = await onTerminal(['broker', 'update', 'shown', '--expiration', '-1', '--alg', 'ES256', '--rate-limit', 'none'])
    const after = await f.admin.getBroker('shown')
    expect(updated).toMatchObject({ code: 0, stdout: fields(after, lines("the exchange's default", 'ES256', 'default', 'none')) })

    // --json at a terminal, and a pipe without it: the admin API's broker, whole, as before.
    const json = JSON.parse((await onTerminal(['broker', 'show', 'shown', '--json'])).stdout) as unknown
    expect(json).toEqual(await f.admin.getBroker('shown'))
    expect(JSON.parse((await cli(['broker', 'show', 'shown'])).stdout)).toEqual(json)
  })

  it("an HS256 broker's secret is shown once, at the end, with a warning on stderr", async () => {
    const created = await onTerminal(['broker', 'create', 'hs', '--alg', 'HS256'])
    expect(created.code).toBe(0)
    const lines = created.stdout.split('\n')
    expect(lines[0]).toBe('FIELD               VALUE')
    expect(lines.slice(-3, -2)[0]).toMatch(/^hmac secret {9}[\w-]{43}$/)
    expect(lines.slice(-2)).toEqual([
      'The HS256 secret is shown only now: the broker verifies its tokens with it; store it where only the broker reads it.',
      '',
    ])
    const piped = JSON.parse((await cli(['broker', 'create', 'hs-piped', '--alg', 'HS256'])).stdout) as Record<string, unknown>
    expect(piped).toEqual({ ...(await f.admin.getBroker('hs-piped')), hmacSecret: expect.stringMatching(/^[\w-]{43}$/) })
  })
})

describe('broker revoke and unrevoke: what changed, per jti', () => {
  it('revoke at a terminal lists each jti with its client id, what happened and its expiry; unrevoke likewise; JSON unchanged', async () => {
    const tokens = await f.admin.issueCredentials('demo', { clientIds: ['rv-1', 'rv-2', 'rv-3'], expiration: '1h' })
    const c = Object.fromEntries(Object.entries(tokens).map(([id, t]) => [id, decodeJwt(t) as { jti: string; exp: number }]))
    const [one, two, three] = [c['rv-1']!, c['rv-2']!, c['rv-3']!]

    expect(await onTerminal(['broker', 'revoke', 'demo', '--jti', one.jti])).toMatchObject({
      code: 0,
      stdout: [
        'JTI                         CLIENT ID  RESULT   EXPIRES',
        `${one.jti}  rv-1       revoked  ${kolkata(one.exp)}`,
        'Revoked 1 credential on demo: brokers close its sessions and refuse it from now on.',
        '',
      ].join('\n'),
    })
    expect(await onTerminal(['broker', 'revoke', 'demo', '--jti', one.jti, '--jti', two.jti])).toMatchObject({
      code: 0,
      stdout: [
        'JTI                         CLIENT ID  RESULT           EXPIRES',
        `${one.jti}  rv-1       revoked already  ${kolkata(one.exp)}`,
        `${two.jti}  rv-2       revoked          ${kolkata(two.exp)}`,
        'Revoked 1 credential on demo: brokers close its sessions and refuse it from now on.',
        '',
      ].join('\n'),
    })
    expect(await onTerminal(['broker', 'revoke', 'demo', '--client-id', 'rv-1'])).toMatchObject({
      code: 0,
      stdout: 'Nothing was revoked: rv-1 had no live credential.\n',
    })

    // A pipe, and --json at a terminal: {revision, revoked} as before; each change is one revision on.
    const piped = JSON.parse((await cli(['broker', 'revoke', 'demo', '--client-id', 'rv-3'])).stdout) as { revision: number }
    expect(piped).toEqual({ revision: piped.revision, revoked: [three.jti] })
    expect(JSON.parse((await onTerminal(['broker', 'unrevoke', 'demo', '--jti', three.jti, '--json'])).stdout)).toEqual({
      revision: piped.revision + 1,
      unrevoked: [three.jti],
    })

    expect(await onTerminal(['broker', 'unrevoke', 'demo', '--jti', two.jti, '--jti', three.jti])).toMatchObject({
      code: 0,
      stdout: [
        'JTI                         CLIENT ID  RESULT       EXPIRES',
        `${two.jti}  rv-2       unrevoked    ${kolkata(two.exp)}`,
        `${three.jti}  rv-3       not revoked  ${kolkata(three.exp)}`,
        'Unrevoked 1 credential on demo: brokers accept it again.',
        '',
      ].join('\n'),
    })
    expect(JSON.parse((await cli(['broker', 'revoke', 'demo', '--jti', two.jti, '--json'])).stdout)).toEqual({
      revision: piped.revision + 3,
      revoked: [two.jti],
    })
  })
})

describe('broker issue --out: the tokens in a 0600 file, never on the terminal', () => {
  it('writes {clientid: {token, jti, notBefore, expiresAt}} to the file and shows the table without tokens', async () => {
    const file = join(f.dir, 'issued', 'out-1.json')
    const r = await onTerminal(['broker', 'issue', 'demo', '--client-id', 'out-1', '--expiration', '1h', '--out', file])
    const written = JSON.parse(readFileSync(file, 'utf8')) as Record<string, { token: string; jti: string; notBefore: number; expiresAt: number }>
    const claims = decodeJwt(written['out-1']!.token)
    expect(written).toEqual({ 'out-1': { token: written['out-1']!.token, jti: claims.jti, notBefore: claims.nbf, expiresAt: claims.exp } })
    expect(statSync(file).mode & 0o777).toBe(0o600)
    expect(r).toMatchObject({
      code: 0,
      stdout: [
        'CLIENT ID  JTI                         NOT BEFORE                  EXPIRES',
        `out-1      ${claims.jti}  ${kolkata(claims.nbf!)}  ${kolkata(claims.exp!)}`,
        `Wrote the token of 1 credential to ${file} (mode 0600). Each token is the MQTT password of its client id.`,
        '',
      ].join('\n'),
    })
    expect(r.stdout).not.toContain(written['out-1']!.token)
  })

  it('in a pipe prints the file and each credential without its token; refuses a file that exists, issuing nothing', async () => {
    const file = join(f.dir, 'issued', 'out-2.json')
    const r = await cli(['broker', 'issue', 'demo', '--client-id', 'out-2', '--out', file])
    expect([r.code, r.stderr]).toEqual([0, ''])
    const written = JSON.parse(readFileSync(file, 'utf8')) as Record<string, { token: string; jti: string; notBefore: number | null; expiresAt: number | null }>
    const { token: _token, ...withoutToken } = written['out-2']!
    expect(JSON.parse(r.stdout)).toEqual({ file, credentials: { 'out-2': withoutToken } })

    expect(await cli(['broker', 'issue', 'demo', '--client-id', 'out-3', '--out', file])).toEqual({
      code: 1,
      stdout: '',
      stderr: `mqtt-oidc: ${file} exists: give --out a new file (its tokens would be lost); nothing was issued\n`,
    })
    expect((await f.admin.listCredentials('demo', { clientId: 'out-3' })).credentials).toEqual([])
  })
})

describe('broker feed-credential at a terminal', () => {
  it('shows the credential once as field lines, or only says where --out wrote it', async () => {
    await f.admin.createBroker('fc')
    const shown = await onTerminal(['broker', 'feed-credential', 'fc', '--yes'])
    expect(shown.code).toBe(0)
    const credential = /^feed credential {2}(mqof_[\w-]{43})$/m.exec(shown.stdout)?.[1]
    expect(shown.stdout).toBe(
      [
        'FIELD            VALUE',
        'broker           fc',
        `feed credential  ${credential}`,
        "The feed credential is shown only now: put it in a file of mode 0600 for the broker's MQTT_OIDC_BROKER_FEED_CREDENTIAL_FILE (--out does that).",
        '',
      ].join('\n'),
    )
    const file = join(f.dir, 'feed', 'fc')
    expect(await onTerminal(['broker', 'feed-credential', 'fc', '--yes', '--out', file])).toMatchObject({
      code: 0,
      stdout: `Wrote the feed credential of fc to ${file} (mode 0600): the broker reads it from MQTT_OIDC_BROKER_FEED_CREDENTIAL_FILE.\n`,
    })
    expect(readFileSync(file, 'utf8')).toMatch(/^mqof_[\w-]{43}\n$/)
    expect(JSON.parse((await onTerminal(['broker', 'feed-credential', 'fc', '--yes', '--out', file, '--json'])).stdout)).toEqual({ broker: 'fc', file })
  })
})

describe('confirmations before destroying', () => {
  it('broker delete asks at a terminal: "n" changes nothing, "y" deletes; in a pipe it takes --yes', async () => {
    await f.admin.createBroker('doomed')
    const no = await onTerminal(['broker', 'delete', 'doomed'], 'n\n')
    expect(no.code).toBe(1)
    expect(no.stdout).toContain('Delete broker doomed? [y/N] ')
    expect(no.stdout).toContain('mqtt-oidc: not confirmed; nothing was changed\n')
    expect(await f.admin.getBroker('doomed')).toMatchObject({ id: 'doomed' })

    expect(await cli(['broker', 'delete', 'doomed'])).toEqual({
      code: 1,
      stdout: '',
      stderr:
        'mqtt-oidc: broker delete doomed changes things that cannot be undone: add --yes to confirm (not at a terminal, so not asked); nothing was changed\n',
    })
    expect(await f.admin.getBroker('doomed')).toMatchObject({ id: 'doomed' })

    const yes = await onTerminal(['broker', 'delete', 'doomed'], 'y\n')
    expect(yes.code).toBe(0)
    expect(yes.stdout).toContain('Deleted broker doomed.\n')
    await expect(f.admin.getBroker('doomed')).rejects.toMatchObject({ status: 404 })
  })

  it('refuses an unknown broker before asking anything', async () => {
    expect(await cli(['broker', 'delete', 'ghost'])).toEqual({
      code: 1,
      stdout: '',
      stderr: 'mqtt-oidc: admin API error: not_found (unknown broker "ghost")\n',
    })
  })
})

describe('errors that say what to fix', () => {
  it('an admin client whose secret the IdP refuses names the file and the settings, in one line', async () => {
    const other = join(f.dir, 'other-stack')
    writeSecretFile(join(other, 'admin-client.json'), JSON.stringify({ ...f.credentials, clientSecret: 'not-the-secret' }))
    expect(await cli(['broker', 'list', '--data-dir', other])).toEqual({
      code: 1,
      stdout: '',
      stderr:
        `mqtt-oidc: the IdP at ${f.idp.issuer} refused the admin client "${f.idp.adminClient.clientId}" of ${join(other, 'admin-client.json')}: ` +
        "its secret does not match that server's (another stack's data dir, or the stack was set up again?). Point --data-dir (env MQTT_OIDC_DATA_DIR) " +
        'at the data dir of the stack at that address, or --issuer (env MQTT_OIDC_CLI_ISSUER) at the IdP that data dir belongs to\n',
    })
  })
})

describe('mqtt-oidc completion', () => {
  const complete = async (line: string): Promise<string[]> => {
    const script = (await cli(['completion', 'bash'])).stdout
    const words = line.split(' ')
    const program = `${script}\nCOMP_WORDS=(${words.map((w) => JSON.stringify(w)).join(' ')}); COMP_CWORD=${words.length - 1}; _mqtt_oidc; printf '%s\\n' "\${COMPREPLY[@]}"`
    const r = await runCommand('bash', ['-c', program])
    expect(r.stderr).toBe('')
    return r.stdout.split('\n').filter(Boolean)
  }

  it('bash completes commands, subcommands and options from the command tree', async () => {
    expect(await complete('mqtt-oidc br')).toEqual(['broker'])
    expect(await complete('mqtt-oidc broker s')).toEqual(['show', 'show-revocations'])
    expect(await complete('mqtt-oidc broker issue demo --exp')).toEqual(['--expiration'])
    expect(await complete('mqtt-oidc idp keys ')).toEqual(['list', 'rotate'])
    expect(await complete('mqtt-oidc pub --mqtt')).toEqual(['--mqtt-version'])
  })

  it('zsh loads it through bashcompinit; fish gets its own complete lines', async () => {
    const zsh = (await cli(['completion', 'zsh'])).stdout
    expect(zsh.split('\n').slice(0, 3)).toEqual([
      '#compdef mqtt-oidc',
      '# zsh: through bash completion (bashcompinit)',
      'autoload -U +X bashcompinit && bashcompinit',
    ])
    const fish = (await cli(['completion', 'fish'])).stdout.split('\n')
    expect(fish).toContain("complete -c mqtt-oidc -n '__fish_use_subcommand' -a broker -d 'manage brokers, credentials and revocations (admin)'")
    expect(fish).toContain(
      "complete -c mqtt-oidc -n '__fish_seen_subcommand_from broker; and __fish_seen_subcommand_from issue' -l expiration -d '30s, 15m, 48h, 7d, seconds, or -1 for no expiry'",
    )
    expect(await cli(['completion', 'tcsh'])).toEqual({
      code: 1,
      stdout: '',
      stderr: "mqtt-oidc: command-argument value 'tcsh' is invalid for argument 'shell'. the shell must be bash, zsh or fish.\n",
    })
  })
})
