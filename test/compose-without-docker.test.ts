import { execFileSync, spawn, spawnSync } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { basename, dirname, join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parse } from 'yaml'
import { completeDeviceLogin } from './support/idp-user-agent.js'
import { freePort } from './support/free-port.js'
import { runTool } from './support/run-tool.js'
import { startPostgres, type TestPostgres } from './support/start-postgres.js'

// docker-compose.yml's services, run here without Docker, from what the image
// holds: the tree as the Dockerfile copies it (minus .dockerignore), with
// production dependencies only (`pnpm install --prod`). Each service runs its
// compose command with its compose environment; only what Docker would
// provide is mapped: service names and `localhost` become 127.0.0.1, the fixed
// ports become free ones, the volumes become temp dirs, and the `postgres`
// service is a PostgreSQL this test starts. Then the README's walkthrough:
// the gateway signs in with the device flow, a person approves it, its
// telemetry reaches a mosquitto_sub holding a credential from the `cli`
// service, and every health check passes.

interface Service {
  command?: string[]
  entrypoint?: string[]
  environment?: Record<string, string>
  healthcheck?: { test: string[] }
}

const root = join(import.meta.dirname, '..')
const compose = parse(readFileSync(join(root, 'docker-compose.yml'), 'utf8'), { merge: true }) as { services: Record<string, Service> }
const APP_SERVICES = ['idp', 'exchange', 'broker', 'emqx-hook'] as const
const FIXED_PORTS = [4000, 4001, 1883, 8083, 8991] as const

let work: string
let tree: string
let pnpm: string
let postgres: TestPostgres | undefined
let rewrite: (value: string) => string
let dataDir: string
let home: string
const running: Array<{ name: string; child: ChildProcess; output: () => string }> = []

/** The tree the Dockerfile's `COPY . .` puts in the image (.dockerignore applied). */
function copyBuildContext(to: string): void {
  const ignored = new Set(readFileSync(join(root, '.dockerignore'), 'utf8').split('\n').map((l) => l.trim().replace(/^\*\*\//, '')).filter(Boolean))
  cpSync(root, to, { recursive: true, filter: (src) => !ignored.has(basename(src)) })
}

function start(name: string, argv: string[], env: Record<string, string>): { child: ChildProcess; output: () => string } {
  const [command, ...args] = argv.map(rewrite)
  const child = spawn(command === 'pnpm' ? pnpm : command!, args, {
    cwd: tree,
    // PATH for node and sh; HOME is the image user's home; nothing else from this process leaks in.
    env: { PATH: process.env.PATH ?? '', HOME: home, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true, // its own process group: pnpm -> sh -> tsx -> node all stop together
  })
  let output = ''
  child.stdout!.setEncoding('utf8').on('data', (d: string) => { output += d })
  child.stderr!.setEncoding('utf8').on('data', (d: string) => { output += d })
  const entry = { name, child, output: () => output }
  running.push(entry)
  return entry
}

function environmentOf(name: string): Record<string, string> {
  return Object.fromEntries(Object.entries(compose.services[name]?.environment ?? {}).map(([k, v]) => [k, rewrite(String(v))]))
}

/** The first match of `pattern` in what the service has printed, waiting for it (and yielding, so the pipes are read). */
async function waitForOutput(service: { child: ChildProcess; output: () => string }, pattern: RegExp, timeoutMs = 60_000): Promise<RegExpExecArray> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const match = pattern.exec(service.output())
    if (match) return match
    if (service.child.exitCode !== null || Date.now() > deadline) throw new Error(`no ${String(pattern)} in: ${service.output()}`)
    await sleep(100)
  }
}

/** Runs the service's compose health check until it passes. */
async function healthy(name: string, timeoutMs = 90_000): Promise<void> {
  const [kind, ...argv] = compose.services[name]?.healthcheck?.test ?? []
  expect(kind).toBe('CMD')
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const r = spawnSync(argv[0]!, argv.slice(1).map(rewrite), { env: { PATH: process.env.PATH ?? '', HOME: home }, timeout: 10_000 })
    if (r.status === 0) return
    const service = running.find((s) => s.name === name)
    if (service?.child.exitCode != null || Date.now() > deadline) {
      throw new Error(`${name} is not healthy (health check exit ${String(r.status)}): ${service?.output() ?? ''}`)
    }
    await sleep(500)
  }
}

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'mqtt-oidc-compose-'))
  tree = join(work, 'app')
  dataDir = join(work, 'data')
  home = join(work, 'home')
  mkdirSync(dataDir, { mode: 0o700 })
  mkdirSync(join(home, '.config', 'mqtt-oidc'), { recursive: true, mode: 0o700 })
  copyBuildContext(tree)

  // The Dockerfile's install step, with the pinned pnpm setup.mjs also uses (the packages come from the local store).
  pnpm = execFileSync('npx', ['--yes', '-p', 'pnpm@12.4.2', 'sh', '-c', 'command -v pnpm'], { encoding: 'utf8' }).trim()
  const nodedir = dirname(dirname(process.execPath))
  const install = spawnSync(pnpm, ['install', '--frozen-lockfile', '--prod', '--prefer-offline', '--reporter=append-only'], {
    cwd: tree, encoding: 'utf8', env: { ...process.env, ...(existsSync(join(nodedir, 'include', 'node', 'node.h')) ? { npm_config_nodedir: nodedir } : {}) },
  })
  if (install.status !== 0) throw new Error(`pnpm install --prod failed: ${install.stdout}${install.stderr}`)

  postgres = await startPostgres()
  const store = await postgres.createDatabase()
  const ports = new Map<number, number>()
  for (const port of FIXED_PORTS) ports.set(port, await freePort())
  rewrite = (value) => value
    .replace(/^postgres:\/\/[^@]+@postgres:5432\/\w+$/, store)
    .replace(/^\/data$/, dataDir)
    .replaceAll('/home/node', home)
    .replace(/\/\/(idp|exchange|emqx-hook|localhost):/g, '//127.0.0.1:')
    .replace(/^0\.0\.0\.0$/, '127.0.0.1')
    .replace(/\b(4000|4001|1883|8083|8991)\b/g, (p) => String(ports.get(Number(p))))

  // In compose's depends_on order, each waiting for the one before it to be healthy.
  for (const name of APP_SERVICES) {
    start(name, compose.services[name]!.command!, environmentOf(name))
    if (name !== 'broker') await healthy(name)
  }
  await healthy('broker')
}, 240_000)

afterAll(async () => {
  for (const { child } of running) {
    if (child.exitCode === null && child.pid !== undefined) {
      try { process.kill(-child.pid, 'SIGTERM') } catch { /* already gone */ }
    }
  }
  await Promise.all(running.map(({ child }) => (child.exitCode === null ? new Promise((resolve) => child.once('close', resolve)) : undefined)))
  await postgres?.stop()
  if (work) rmSync(work, { recursive: true, force: true })
}, 60_000)

describe('docker-compose.yml without Docker, from a production-only install', () => {
  it('installs no dev dependency: no test runner, compiler or test-only client', () => {
    expect(existsSync(join(tree, 'node_modules', 'tsx'))).toBe(true)
    expect(existsSync(join(tree, 'node_modules', 'vitest'))).toBe(false)
    expect(existsSync(join(tree, 'node_modules', 'typescript'))).toBe(false)
    expect(existsSync(join(tree, 'node_modules', 'playwright-core'))).toBe(false)
    expect(existsSync(join(tree, 'apps', 'idp', 'node_modules', 'openid-client'))).toBe(false)
    expect(existsSync(join(tree, 'apps', 'broker', 'node_modules', 'mqtt'))).toBe(false)
  })

  it('runs the walkthrough: the gateway signs in with the device flow, then its telemetry reaches a backend', async () => {
    const gateway = start('gateway', compose.services.gateway!.command!, environmentOf('gateway'))
    const [, url] = await waitForOutput(gateway, /^Or open \(or scan\) (\S+)$/m)
    const demo = JSON.parse(readFileSync(join(dataDir, 'demo-account.json'), 'utf8')) as { username: string; password: string }
    const page = await completeDeviceLogin({ verificationUriComplete: url, username: demo.username, password: demo.password })
    expect(page.name).toBe('device-success')
    await healthy('gateway', 60_000)
    const [, clientid] = await waitForOutput(gateway, /^Connected to demo as (\S+);/m)
    await waitForOutput(gateway, new RegExp(`^devices/${clientid}/telemetry \\{"seq":0,`, 'm'))

    // README step 4: a credential from the `cli` service, and mosquitto_sub watching.
    const cli = compose.services.cli!
    const issue = spawnSync(pnpm, [...cli.entrypoint!.slice(1), 'broker', 'issue', 'demo', '--client-id', 'watcher', '--expiration', '1h'], {
      cwd: tree, encoding: 'utf8', env: { PATH: process.env.PATH ?? '', HOME: home, ...environmentOf('cli') },
    })
    expect(issue.status, issue.stderr).toBe(0)
    const token = (JSON.parse(issue.stdout) as Record<string, string>).watcher!
    const mqttPort = new URL(environmentOf('gateway').MQTT_OIDC_CLI_BROKER_URL!).port
    const watcher = runTool('mosquitto_sub', ['-h', '127.0.0.1', '-p', mqttPort, '-i', 'watcher', '-u', 'watcher', '-P', token, '-t', 'devices/#', '-C', '1', '-v'], 30_000)
    const watched = await watcher.exited
    expect(watched.code, watched.stderr).toBe(0)
    expect(watched.stdout).toMatch(new RegExp(`^devices/${clientid}/telemetry \\{"seq":\\d+,`))

    // No service wrote a token to its log.
    for (const service of running) expect(service.output(), service.name).not.toMatch(/eyJ[\w-]+\.eyJ[\w-]+\./)
  }, 150_000)

  it('manages accounts and IdP keys with the CLI inside the idp service, on its PostgreSQL store', () => {
    const inIdp = (args: string[], input = '') => spawnSync(pnpm, ['mqtt-oidc', ...args], {
      cwd: tree, encoding: 'utf8', input, env: { PATH: process.env.PATH ?? '', HOME: home, ...environmentOf('idp') },
    })
    const add = inIdp(['users', 'add', 'alice', '--client-id', 'gw-17'], 'alice-password-1\n')
    expect(add.status, add.stderr).toBe(0)
    const users = JSON.parse(inIdp(['users', 'list']).stdout) as Array<{ username: string }>
    expect(users.map((u) => u.username).sort()).toEqual(['alice', 'demo'])
    const keys = inIdp(['idp', 'keys', 'list'])
    expect(keys.status, keys.stderr).toBe(0)
    expect((JSON.parse(keys.stdout) as unknown[]).length).toBeGreaterThanOrEqual(3)
    // Nothing of it touched the (SQLite) data dir: the store is PostgreSQL.
    expect(existsSync(join(dataDir, 'idp.sqlite'))).toBe(false)
  })

  it('answers the EMQX hook as EMQX would ask it: an unknown password is denied', async () => {
    const port = environmentOf('emqx-hook').MQTT_OIDC_BROKER_EMQX_HOOK_PORT!
    const res = await fetch(`http://127.0.0.1:${port}/emqx/authn`, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ clientid: 'c1', username: 'c1', password: 'not-a-token', peerhost: '127.0.0.1' }),
    })
    expect(res.status).toBe(200)
    expect(await res.json()).toMatchObject({ result: 'deny' })
  })
})
