import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadBrokerConfig } from '@mqtt-oidc/broker'
import { launchChromium, type Chromium } from '@mqtt-oidc/test-support/launch-chromium'
import { freeHostPorts } from '@mqtt-oidc/test-support/free-host-ports'
import { runCommand, type CommandRun } from '@mqtt-oidc/test-support/run-command'
import { until } from '@mqtt-oidc/test-support/until'

// docker-compose.yml on a real container engine: podman, driven by
// podman-compose, exactly as the README's podman notes say (scripts/podman-setup.sh
// and the base-image stand-ins of scripts/container-base-images.sh, which
// `npm test` and CI install and build on Debian). The project image is built
// from the Dockerfile as it is; the stack comes up without EMQX (no image
// here: test/docker-compose.test.ts checks its wiring); then the README's
// walkthrough, step by step, against the running containers: the demo password
// from the IdP's log, the gateway's device-flow prompt, approval in Chromium,
// telemetry, a watcher credential from the `cli` service and mosquitto_sub on
// the host, `restart gateway` with no second approval, `users add` with the
// password piped, `idp keys rotate`, and, after longer than every timeout that
// decides whether a client gets in, the watcher connecting again.
//
// It never touches a developer's stack: its own compose project name (so its
// own containers, network and volumes) and its own host ports, through the
// compose file's MQTT_OIDC_COMPOSE_*_PORT variables. Everything it made is
// removed at the end; the base images and the project image stay cached.

const root = join(import.meta.dirname, '..')
const project = `mqtt-oidc-test-${process.pid}`
const BACKENDS = ['postgres', 'idp', 'exchange', 'broker', 'emqx-hook', 'prometheus'] as const
const PORT_VARIABLES = ['IDP', 'EXCHANGE', 'MQTT', 'WS', 'EMQX', 'EMQX_DASHBOARD', 'PROMETHEUS'] as const

/**
 * How long the stack must keep letting the watcher in after the walkthrough:
 * longer than every default timeout that decides whether a new client gets
 * in: the broker's revocation-feed staleness limit (60 s, after which it
 * refuses new clients), the feed stream's idle timeout (45 s, after which it
 * reconnects) and the JWKS unknown-kid cooldown (30 s), plus 15 s. The longer
 * defaults are refresh intervals or lifetimes whose failure paths have tests
 * of their own with short settings (JWKS refresh 300 s, last good JWKS kept
 * 3600 s, token lifetimes 1 h).
 */
const brokerDefaults = loadBrokerConfig({})
const STREAM_IDLE_MS = 45_000 // packages/broker-auth create-revocation-follower's idleTimeoutMs default
const QUIET_WAIT_MS = Math.max(brokerDefaults.feedMaxStaleMs, STREAM_IDLE_MS, 30_000) + 15_000


const env: NodeJS.ProcessEnv = { ...process.env }
const ports: Record<(typeof PORT_VARIABLES)[number], number> = { IDP: 0, EXCHANGE: 0, MQTT: 0, WS: 0, EMQX: 0, EMQX_DASHBOARD: 0, PROMETHEUS: 0 }
let chromium: Chromium | undefined
let composeUp = false

/** A command from the repository root with the test's environment (its ports). */
function run(command: string, args: readonly string[], options: { input?: string; timeoutMs?: number } = {}): Promise<CommandRun> {
  return runCommand(command, args, { env, cwd: root, input: options.input, timeoutMs: options.timeoutMs ?? 120_000 })
}

async function ok(command: string, args: readonly string[], options: { input?: string; timeoutMs?: number } = {}): Promise<string> {
  const r = await run(command, args, options)
  if (r.code !== 0) throw new Error(`${command} ${args.join(' ')} exited ${String(r.code)}:\n${r.stdout}\n${r.stderr}`)
  return r.stdout
}

/** `podman-compose -p <project> ...`, as the README's podman notes run it. */
const compose = (args: readonly string[], options: { input?: string; timeoutMs?: number } = {}): Promise<CommandRun> => run('podman-compose', ['-p', project, ...args], options)
const container = (service: string): string => `${project}_${service}_1`
const logs = async (service: string): Promise<string> => {
  const r = await compose(['logs', service])
  return r.stdout + r.stderr
}
const healthy = async (service: string): Promise<boolean> => (await run('podman', ['healthcheck', 'run', container(service)], { timeoutMs: 30_000 })).code === 0

/** podman runs health checks only when asked (no systemd): ask until it passes. */
async function waitHealthy(service: string, timeoutMs: number): Promise<void> {
  await until(() => healthy(service), timeoutMs).catch(async (err: unknown) => {
    throw new Error(`${service} never became healthy: ${String(err)}\n${await logs(service)}`)
  })
}

/** The first match of `pattern` in the service's log, waiting for it. */
async function waitForLog(service: string, pattern: RegExp, timeoutMs = 60_000): Promise<RegExpExecArray> {
  let match: RegExpExecArray | null = null
  await until(async () => (match = pattern.exec(await logs(service))) !== null, timeoutMs).catch(async () => {
    throw new Error(`no ${String(pattern)} in the ${service} log:\n${await logs(service)}`)
  })
  return match!
}

/** A command's stdout without podman-compose's own lines (the podman commands it runs, `exit code: 0`). */
function commandOutput(stdout: string): string {
  return stdout.split('\n').filter((l) => !/^(\['podman'|podman |using podman|exit code: |\*\* )/.test(l)).join('\n')
}

/** One reading on the host, through the published MQTT port, as a backend would watch: mosquitto_sub with the watcher credential. */
async function watch(token: string): Promise<string> {
  return ok('mosquitto_sub', ['-h', 'localhost', '-p', String(ports.MQTT), '-i', 'watcher', '-u', 'watcher', '-P', token, '-t', 'devices/#', '-v', '-C', '1', '-W', '30'], { timeoutMs: 40_000 })
}

/**
 * Takes down the stacks of earlier runs of this test whose process is gone
 * (a run killed before its afterAll): left up, their containers keep their
 * host ports forwarded, and a server of any later test handed one of those
 * ports would see its connections go to a container instead.
 */
async function removeStaleTestStacks(): Promise<void> {
  const listed = await run('podman', ['ps', '-a', '--filter', 'label=io.podman.compose.project', '--format', '{{index .Labels "io.podman.compose.project"}}'])
  for (const name of new Set(listed.stdout.split('\n'))) {
    const pid = /^mqtt-oidc-test-(\d+)$/.exec(name)?.[1]
    if (pid === undefined || Number(pid) === process.pid || processAlive(Number(pid))) continue
    await ok('podman-compose', ['-p', name, 'down', '-v'], { timeoutMs: 180_000 })
    await run('podman', ['network', 'rm', '--force', `${name}_default`])
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

beforeAll(async () => {
  await removeStaleTestStacks()
  // below the kernel's ephemeral range: podman forwards them with DNAT rules, and no server listening on port 0 may get one
  const picked = await freeHostPorts(PORT_VARIABLES.length)
  PORT_VARIABLES.forEach((name, i) => {
    ports[name] = picked[i] as number
    env[`MQTT_OIDC_COMPOSE_${name}_PORT`] = String(ports[name])
  })
  await ok('bash', ['scripts/container-base-images.sh'], { timeoutMs: 600_000 })
  // The README's podman build: the host's CA bundle as a build secret, for a network that re-signs TLS.
  const bundle = [process.env.NODE_EXTRA_CA_CERTS, '/etc/ssl/certs/ca-certificates.crt'].find((f) => f !== undefined && existsSync(f))
  await ok('podman', ['build', ...(bundle ? ['--secret', `id=ca-certificates,src=${bundle}`] : []), '-t', 'mqtt-oidc:dev', '.'], { timeoutMs: 900_000 })
  composeUp = true
  await ok('podman-compose', ['-p', project, 'up', '-d', ...BACKENDS], { timeoutMs: 300_000 })
  for (const service of BACKENDS) await waitHealthy(service, 180_000)
  await ok('podman-compose', ['-p', project, 'up', '-d', 'gateway'], { timeoutMs: 120_000 })
  chromium = await launchChromium()
}, 1_500_000)

afterAll(async () => {
  await chromium?.close()
  if (!composeUp) return
  // Volumes the containers hold, named or anonymous (the image's VOLUME /data under the gateway), gone with them.
  const inspect = await run('podman', ['inspect', '--format', '{{range .Mounts}}{{.Name}} {{end}}', ...[...BACKENDS, 'gateway'].map(container)])
  await compose(['down', '-v'], { timeoutMs: 180_000 })
  const volumes = [...new Set(inspect.stdout.split(/\s+/).filter(Boolean))]
  if (volumes.length > 0) await run('podman', ['volume', 'rm', '--force', ...volumes])
  await run('podman', ['network', 'rm', '--force', `${project}_default`])
}, 300_000)

describe('docker-compose.yml on podman (podman-compose), the README walkthrough', () => {
  it('runs compiled JavaScript with node as uid 1000, with no package manager, TypeScript or compiler in the image', async () => {
    expect(await ok('podman', ['run', '--rm', '--entrypoint', 'sh', 'mqtt-oidc:dev', '-c', 'id -u; for c in pnpm tsx tsc g++ make python3; do command -v $c; done; true'])).toBe('1000\n')
    for (const service of ['idp', 'exchange', 'broker', 'emqx-hook', 'gateway']) {
      const top = await ok('podman', ['top', container(service), 'user', 'args'])
      expect(top, service).toMatch(/^node\s+node /m)
      expect(top, service).not.toMatch(/pnpm|tsx/)
    }
  })

  let demoPassword = ''
  let clientid = ''
  let watcherToken = ''

  it('prints the demo password once in the IdP log, and the device-flow prompt with the public URL in the gateway log', async () => {
    const [, password] = await waitForLog('idp', /Demo account[^\n]*\n\s+username: demo\n\s+password: (\S+)/)
    demoPassword = password!
    const [, url, code] = await waitForLog('gateway', /To sign in, open (\S+) and enter the code: ([A-Z]{4}-[A-Z]{4}-[A-Z]{4})/)
    expect(url).toBe(`http://localhost:${ports.IDP}/device`)
    expect(code).toMatch(/^[A-Z]{4}-[A-Z]{4}-[A-Z]{4}$/)
    expect(await healthy('gateway'), 'no reading yet: not healthy').toBe(false)
  }, 120_000)

  it('approves the gateway in Chromium as the demo account; its readings flow and it turns healthy', async () => {
    const log = await logs('gateway')
    const codes = [...log.matchAll(/enter the code: ([A-Z]{4}-[A-Z]{4}-[A-Z]{4})/g)].map((m) => m[1]!)
    const page = await chromium!.newPage()
    await page.goto(`http://localhost:${ports.IDP}/device`)
    await page.getByLabel('Code').fill(codes.at(-1)!)
    await page.keyboard.press('Enter')
    await page.waitForSelector('main[data-page="device-confirm"]')
    await page.getByRole('button', { name: 'Yes, sign in the device' }).click()
    await page.waitForSelector('main[data-page="login"]')
    await page.getByLabel('Username').fill('demo')
    await page.getByLabel('Password').fill(demoPassword)
    await page.keyboard.press('Enter')
    await page.waitForSelector('main[data-page="consent"]')
    await page.getByRole('button', { name: 'Allow' }).click()
    await page.waitForSelector('main[data-page="device-success"]')
    await chromium!.screenshot(page, 'compose-device-success')
    await page.close()

    const [, loggedInAs] = await waitForLog('gateway', new RegExp(`Logged in to http://localhost:${ports.IDP} as demo \\(MQTT client id (demo-\\S+)\\)\\.`))
    clientid = loggedInAs!
    await waitForLog('gateway', new RegExp(`^devices/${clientid}/telemetry \\{"seq":0,"at":"[^"]+","clientid":"${clientid}","temperature_c":[\\d.]+,"uptime_s":0\\}$`, 'm'))
    await waitHealthy('gateway', 30_000)
    expect(chromium!.problems).toEqual([])
  }, 120_000)

  it('has Prometheus scrape the IdP, the exchange, the broker and the EMQX hook, and count the gateway\'s session', async () => {
    const check = await run('podman', ['exec', container('prometheus'), 'promtool', 'check', 'config', '/etc/prometheus/prometheus.yml'])
    expect(check.code, check.stdout + check.stderr).toBe(0)
    expect(check.stdout).toMatch(/SUCCESS: 13 rules found/)
    const api = `http://localhost:${ports.PROMETHEUS}/api/v1`
    let health: Record<string, string> = {}
    await until(async () => {
      const targets = await (await fetch(`${api}/targets`)).json() as { data: { activeTargets: Array<{ labels: { job: string }; health: string }> } }
      health = Object.fromEntries(targets.data.activeTargets.map((t) => [t.labels.job, t.health]))
      return Object.values(health).length === 4 && Object.values(health).every((h) => h === 'up')
    }, 90_000).catch(() => { throw new Error(`targets not all up: ${JSON.stringify(health)}`) })
    expect(health).toEqual({ idp: 'up', exchange: 'up', broker: 'up', 'emqx-hook': 'up' })
    await until(async () => {
      const answer = await (await fetch(`${api}/query?query=${encodeURIComponent('mqtt_oidc_broker_sessions{broker="demo"}')}`)).json() as { data: { result: Array<{ value: [number, string] }> } }
      return Number(answer.data.result[0]?.value[1] ?? 0) >= 1
    }, 90_000)
  }, 240_000)

  it('issues a watcher credential from the cli service, and mosquitto_sub on the host receives the readings', async () => {
    const r = await compose(['run', '--rm', '-T', '--no-deps', 'cli', 'broker', 'issue', 'demo', '--client-id', 'watcher', '--expiration', '1h'])
    expect(r.code, r.stderr).toBe(0)
    const issued = JSON.parse(commandOutput(r.stdout)) as Record<string, string>
    expect(Object.keys(issued)).toEqual(['watcher'])
    watcherToken = issued.watcher!
    expect(await watch(watcherToken)).toMatch(new RegExp(`^devices/${clientid}/telemetry \\{"seq":\\d+,`))
  }, 120_000)

  it('restarts the gateway, which resumes with its stored login and no second approval', async () => {
    const before = await logs('gateway')
    const prompts = (before.match(/enter the code:/g) ?? []).length
    const connected = (before.match(/^Connected to demo as /gm) ?? []).length
    expect((await compose(['restart', 'gateway'])).code).toBe(0)
    await until(async () => ((await logs('gateway')).match(/^Connected to demo as /gm) ?? []).length > connected, 60_000)
    const after = await logs('gateway')
    expect(after).toContain(`Connected to demo as ${clientid};`)
    expect((after.match(/enter the code:/g) ?? []).length).toBe(prompts)
    await waitHealthy('gateway', 30_000)
  }, 120_000)

  it('adds an account with the password piped (no TTY) and rotates the IdP keys, through the cli service', async () => {
    const add = await compose(['run', '--rm', '-T', '--no-deps', 'cli', 'users', 'add', 'alice', '--client-id', 'gw-17'], { input: 'alice-password-1\nalice-password-1\n' })
    expect(add.code, add.stdout + add.stderr).toBe(0)
    expect(JSON.parse(commandOutput(add.stdout))).toMatchObject({ username: 'alice', clientIds: ['gw-17'] })
    const list = await compose(['run', '--rm', '-T', '--no-deps', 'cli', 'users', 'list'])
    expect((JSON.parse(commandOutput(list.stdout)) as Array<{ username: string }>).map((u) => u.username)).toContain('alice')

    const rotate = await compose(['run', '--rm', '-T', '--no-deps', 'cli', 'idp', 'keys', 'rotate'])
    expect(rotate.code, rotate.stdout + rotate.stderr).toBe(0)
    expect(rotate.stdout + rotate.stderr).toMatch(/The new keys sign from \S+; running IdP instances pick them up within a minute\./)
  }, 120_000)

  it(`keeps letting the watcher in after ${QUIET_WAIT_MS / 1000} s, longer than every timeout that decides it`, async () => {
    // The wait is what is tested: nothing happens on purpose, and the stack must still serve.
    await sleep(QUIET_WAIT_MS)
    for (const service of [...BACKENDS, 'gateway']) expect(await healthy(service), service).toBe(true)
    expect(await watch(watcherToken)).toMatch(new RegExp(`^devices/${clientid}/telemetry \\{"seq":\\d+,`))
  }, QUIET_WAIT_MS + 120_000)
})
