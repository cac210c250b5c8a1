import { spawn, type ChildProcess } from 'node:child_process'
import { createServer, type Server } from 'node:net'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { loadConfig as loadIdpConfig } from '@mqtt-oidc/idp/config'
import { loadConfig as loadExchangeConfig } from '@mqtt-oidc/exchange'
import { loadBrokerConfig } from '@mqtt-oidc/broker'
import { freePort } from '@mqtt-oidc/test-support/free-port'
import { completeDeviceLogin } from '@mqtt-oidc/test-support/idp-user-agent'
import { runCommand } from '@mqtt-oidc/test-support/run-command'
import { runNode, startNode } from '@mqtt-oidc/test-support/run-tsx'
import { BIN } from './support/cli-bin.js'

// Every app's entry point as a real process on its sources, as `npm start`
// and the container images run them: one configuration reader, one exit code
// and message shape for a bad configuration, one start/stop helper.

const root = join(import.meta.dirname, '..')
const ENTRY_POINTS = {
  idp: { script: 'apps/idp/src/main.ts', variable: 'MQTT_OIDC_IDP_PORT' },
  exchange: { script: 'apps/exchange/src/main.ts', variable: 'MQTT_OIDC_EXCHANGE_PORT' },
  broker: { script: 'apps/broker/src/main.ts', variable: 'MQTT_OIDC_BROKER_MQTT_PORT' },
  'emqx-hook': { script: 'apps/broker/src/emqx-hook-main.ts', variable: 'MQTT_OIDC_BROKER_EMQX_HOOK_PORT' },
  'mqtt-oidc': { script: 'scripts/start-stack.ts', variable: 'MQTT_OIDC_EXCHANGE_PORT' },
} as const
const dirs: string[] = []
const children = new Set<ChildProcess>()
afterAll(() => {
  // A test that failed or timed out leaves no app running behind it.
  for (const child of children) child.kill('SIGKILL')
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true })
})

interface Running {
  /** Resolves once stdout has a line matching `pattern`. */
  waitFor(pattern: RegExp): Promise<void>
  /** stdout so far. */
  stdout(): string
  kill(signal: NodeJS.Signals): void
  readonly ended: Promise<{ code: number | null; stdout: string; stderr: string }>
}

/** `node --conditions=@mqtt-oidc/source --import tsx <script>` with `env` only (and PATH, HOME). */
function start(script: string, env: Record<string, string>): Running {
  const child = spawn(process.execPath, ['--conditions=@mqtt-oidc/source', '--import', 'tsx', script], {
    cwd: root,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  children.add(child)
  child.on('close', () => children.delete(child))
  let stdout = ''
  let stderr = ''
  const waiters = new Set<() => void>()
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk
    for (const check of waiters) check()
  })
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk
  })
  const ended = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) =>
    child.on('close', (code) => resolve({ code, stdout, stderr })),
  )
  return {
    ended,
    stdout: () => stdout,
    kill: (signal) => {
      child.kill(signal)
    },
    waitFor: (pattern) =>
      new Promise((resolve, reject) => {
        const check = (): void => {
          if (pattern.test(stdout)) {
            waiters.delete(check)
            resolve()
          }
        }
        waiters.add(check)
        check()
        void ended.then((r) => reject(new Error(`exited ${String(r.code)} before ${String(pattern)}:\n${r.stdout}\n${r.stderr}`)))
      }),
  }
}

describe('every entry point with a bad variable', () => {
  it.each(Object.entries(ENTRY_POINTS))(
    '%s exits 2 with one line naming the variable, and starts nothing',
    async (app, { script, variable }) => {
      const dataDir = mkdtempSync(join(tmpdir(), 'mqtt-oidc-runtime-'))
      dirs.push(dataDir)
      const ended = await start(script, { MQTT_OIDC_DATA_DIR: dataDir, [variable]: 'eighty' }).ended
      expect(ended).toEqual({
        code: 2,
        stdout: '',
        stderr: `${app}: invalid configuration: ${variable} must be a whole number from 0 to 65535, got "eighty"\n`,
      })
    },
    60_000,
  )
})

describe('every entry point whose port is taken', () => {
  // The stack's IdP starts first on MQTT_OIDC_PORT_BASE; its exchange, on base + 1, finds the port taken.
  // (The broker and the EMQX hook listen only once the exchange's keys and revocations are loaded.)
  const CASES = [
    { app: 'idp', script: ENTRY_POINTS.idp.script, offset: 0, variable: 'MQTT_OIDC_IDP_PORT', what: 'the IdP' },
    { app: 'exchange', script: ENTRY_POINTS.exchange.script, offset: 1, variable: 'MQTT_OIDC_EXCHANGE_PORT', what: 'the exchange' },
    { app: 'mqtt-oidc', script: ENTRY_POINTS['mqtt-oidc'].script, offset: 1, variable: 'MQTT_OIDC_EXCHANGE_PORT', what: 'the exchange' },
  ] as const

  it.each(CASES)(
    '$app exits 1 with one line that names the port and the variable that moves it, without a stack trace',
    async ({ app, script, offset, variable, what }) => {
      const dataDir = mkdtempSync(join(tmpdir(), 'mqtt-oidc-runtime-'))
      dirs.push(dataDir)
      const base = await freePortRange(6)
      const taken = await hold(base + offset)
      try {
        const ended = await start(script, { MQTT_OIDC_DATA_DIR: dataDir, MQTT_OIDC_PORT_BASE: String(base), LOG_FORMAT: 'json' }).ended
        const expected = `${app} failed to start: port ${base + offset} (127.0.0.1), for ${what}, is already in use (another mqtt-oidc, or another server?): set ${variable}, or MQTT_OIDC_PORT_BASE to move the whole stack`
        const output = `${ended.stdout}${ended.stderr}`
        const failures = output.split('\n').filter((line) => line.includes('failed to start'))
        expect(failures.map((line) => (line.startsWith('{') ? (JSON.parse(line) as { msg: string }).msg : line))).toEqual([expected])
        expect(failures[0]).not.toMatch(/"err"|"stack"/)
        expect(output).not.toMatch(/^\s+at /m)
        expect(ended.code).toBe(1)
      } finally {
        await new Promise((resolve) => taken.close(resolve))
      }
    },
    60_000,
  )
})

describe('MQTT_OIDC_PORT_BASE: one setting that moves the whole stack', () => {
  it("places every part at its offset in every app's configuration; a part's own variable still wins", () => {
    const env = { MQTT_OIDC_PORT_BASE: '5000' }
    expect(loadIdpConfig(env)).toMatchObject({ port: 5000, issuer: 'http://localhost:5000', exchangeUrl: 'http://localhost:5001' })
    expect(loadExchangeConfig(env)).toMatchObject({
      port: 5001,
      issuer: 'http://localhost:5001',
      idp: { issuer: 'http://localhost:5000' },
      demoBrokerUrl: 'mqtt://localhost:5002',
    })
    expect(loadBrokerConfig(env)).toMatchObject({
      exchangeUrl: 'http://localhost:5001',
      issuer: 'http://localhost:5001',
      mqttPort: 5002,
      wsPort: 5003,
      emqxHookPort: 5005,
    })
    expect(loadBrokerConfig({ ...env, MQTT_OIDC_BROKER_TLS_CERT: '/c.pem', MQTT_OIDC_BROKER_TLS_KEY: '/k.pem' }).tls?.port).toBe(5004)
    expect(loadBrokerConfig({ ...env, MQTT_OIDC_BROKER_WS_PORT: '9001' })).toMatchObject({ mqttPort: 5002, wsPort: 9001 })
    expect(loadIdpConfig({})).toMatchObject({ port: 4000, issuer: 'http://localhost:4000' })
  })

  it('refuses a base that is not a whole number, or leaves no room for the last part, in every app and in the CLI', async () => {
    const message = (value: string) => `MQTT_OIDC_PORT_BASE must be a whole number from 1 to 65530, got "${value}"`
    for (const load of [loadIdpConfig, loadExchangeConfig, loadBrokerConfig]) {
      for (const value of ['abc', '65531']) {
        expect(() => load({ MQTT_OIDC_PORT_BASE: value }), load.name).toThrow(message(value))
      }
    }
    const configDir = mkdtempSync(join(tmpdir(), 'mqtt-oidc-runtime-'))
    dirs.push(configDir)
    const cli = await runNode(BIN, ['whoami'], { env: { MQTT_OIDC_PORT_BASE: 'abc', MQTT_OIDC_CLI_CONFIG_DIR: configDir } })
    expect(cli).toEqual({ code: 1, stdout: '', stderr: `mqtt-oidc: ${message('abc')}\n` })
  })

  it("moves the embedded stack, and its banner is true: the CLI with only that setting signs in, and its mosquitto_pub line reaches the sign-in's topic", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'mqtt-oidc-runtime-'))
    dirs.push(dataDir)
    const base = await freePortRange(4)
    const stack = start(ENTRY_POINTS['mqtt-oidc'].script, { MQTT_OIDC_DATA_DIR: dataDir, MQTT_OIDC_PORT_BASE: String(base), LOG_FORMAT: 'json' })
    const clis: Array<{ kill(): void }> = []
    try {
      await stack.waitFor(/^ {2}mosquitto_pub .*$/m)
      const banner = stack
        .stdout()
        .split('\n')
        .filter((line) => !line.startsWith('{'))
      const demo = JSON.parse(readFileSync(join(dataDir, 'demo-account.json'), 'utf8')) as { username: string; password: string; clientId: string }
      expect(banner).toEqual(
        expect.arrayContaining([
          `  OIDC server     http://localhost:${base}   (listening on 127.0.0.1:${base})`,
          `  token exchange  http://localhost:${base + 1}   (listening on 127.0.0.1:${base + 1}; JWKS http://localhost:${base + 1}/.well-known/jwks.json)`,
          `  MQTT broker     mqtt://127.0.0.1:${base + 2}   ws://127.0.0.1:${base + 3}/mqtt   (broker id "demo")`,
          `  MQTT client id: ${demo.clientId} for the first sign-in, ${demo.clientId}-<10 more characters> for each further one`,
        ]),
      )
      const next = banner.slice(banner.indexOf('Next, in another terminal (see README "Try it"):') + 1).filter((line) => line !== '')
      expect(next).toEqual([
        `  export MQTT_OIDC_PORT_BASE=${base}`,
        '  pnpm mqtt-oidc login --device          # says which MQTT client id this sign-in got',
        `  pnpm mqtt-oidc sub --broker demo -t 'devices/<that client id>/#'`,
        '  pnpm mqtt-oidc broker issue demo --client-id backend-1 --expiration 1h',
        `  mosquitto_pub -h localhost -p ${base + 2} -i backend-1 -u backend-1 -P <token> -t 'devices/<that client id>/cmd' -m reboot`,
      ])

      // The compose health checks find the moved parts by the same setting.
      for (const service of ['idp', 'exchange']) {
        expect(await runHealthcheck(service, { MQTT_OIDC_PORT_BASE: String(base) }), service).toEqual({ code: 0, stdout: '', stderr: '' })
      }

      // The banner's commands, in order, with only the variable it says to export.
      const env = { MQTT_OIDC_PORT_BASE: String(base), MQTT_OIDC_DATA_DIR: dataDir }
      const signIns: string[] = []
      for (const configDir of ['first', 'second']) {
        const login = startNode(BIN, ['login', '--device'], { cwd: dataDir, env: { ...env, MQTT_OIDC_CLI_CONFIG_DIR: join(dataDir, configDir) } })
        clis.push(login)
        await login.waitForStderr(/^Waiting for approval/m)
        const url = /^Or open \(or scan\) (\S+)$/m.exec(login.stderr())?.[1] ?? ''
        expect(url.startsWith(`http://localhost:${base}/`)).toBe(true)
        expect((await completeDeviceLogin({ verificationUriComplete: url, username: demo.username, password: demo.password })).name).toBe('device-success')
        const { code, stderr } = await login.done
        expect(code).toBe(0)
        signIns.push(/\(MQTT client id (\S+)\)\.$/m.exec(stderr)?.[1] ?? '')
      }
      // Two sign-ins at once, two client ids: the hint fits either.
      expect(signIns[0]).toBe(demo.clientId)
      expect(signIns[1]).toMatch(new RegExp(`^${demo.clientId}-[a-z2-7]{10}$`))
      const clientId = signIns[1]!
      const sub = startNode(BIN, ['sub', '--broker', 'demo', '-t', `devices/${clientId}/#`, '-C', '1'], {
        cwd: dataDir,
        env: { ...env, MQTT_OIDC_CLI_CONFIG_DIR: join(dataDir, 'second') },
      })
      clis.push(sub)
      await sub.waitForStderr(/^Subscribed to /m)
      const issued = await runNode(BIN, ['broker', 'issue', 'demo', '--client-id', 'backend-1', '--expiration', '1h'], {
        cwd: dataDir,
        env: { ...env, MQTT_OIDC_CLI_CONFIG_DIR: join(dataDir, 'admin') },
      })
      expect(issued.code).toBe(0)
      const token = /eyJ[\w-]+\.[\w-]+\.[\w-]+/.exec(issued.stdout)?.[0] ?? ''
      const publish = next.at(-1)!.trim().replace('<token>', token).replace('<that client id>', clientId)
      const args = [...publish.matchAll(/'([^']*)'|(\S+)/g)].map((m) => m[1] ?? m[2]!)
      expect(await runCommand(args[0]!, args.slice(1), { timeoutMs: 20_000 })).toMatchObject({ code: 0 })
      expect(await sub.done).toMatchObject({ code: 0, stdout: `devices/${clientId}/cmd reboot\n` })
    } finally {
      for (const cli of clis) cli.kill() // ended already, unless the test failed first
      stack.kill('SIGTERM')
      await stack.ended
    }
  }, 120_000)
})

describe('the embedded stack (scripts/start-stack.ts)', () => {
  it('starts the three apps through their own start functions, healthy and documented, and stops them in reverse order on SIGTERM, exiting 0', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'mqtt-oidc-runtime-'))
    dirs.push(dataDir)
    const ports = {
      idp: await freePort(),
      exchange: await freePort(),
      mqtt: await freePort(),
      idpMetrics: await freePort(),
      exchangeMetrics: await freePort(),
      brokerMetrics: await freePort(),
    }
    const idp = `http://127.0.0.1:${ports.idp}`
    const exchange = `http://127.0.0.1:${ports.exchange}`
    const env = {
      MQTT_OIDC_DATA_DIR: dataDir,
      LOG_FORMAT: 'json',
      MQTT_OIDC_IDP_PORT: String(ports.idp),
      MQTT_OIDC_IDP_ISSUER: idp,
      MQTT_OIDC_IDP_EXCHANGE_URL: exchange,
      MQTT_OIDC_IDP_METRICS_PORT: String(ports.idpMetrics),
      MQTT_OIDC_EXCHANGE_PORT: String(ports.exchange),
      MQTT_OIDC_EXCHANGE_ISSUER: exchange,
      MQTT_OIDC_EXCHANGE_IDP_ISSUER: idp,
      MQTT_OIDC_EXCHANGE_METRICS_PORT: String(ports.exchangeMetrics),
      MQTT_OIDC_BROKER_EXCHANGE_URL: exchange,
      MQTT_OIDC_BROKER_MQTT_PORT: String(ports.mqtt),
      MQTT_OIDC_BROKER_WS_PORT: '0',
      MQTT_OIDC_BROKER_METRICS_PORT: String(ports.brokerMetrics),
    }
    const stack = start(ENTRY_POINTS['mqtt-oidc'].script, env)
    await stack.waitFor(/^mqtt-oidc is running \(Ctrl-C stops it\):$/m)

    // docker-compose.yml's health checks, on the same apps outside containers.
    for (const service of ['idp', 'exchange', 'broker']) {
      const check = await runHealthcheck(service, env)
      expect(check, service).toEqual({ code: 0, stdout: '', stderr: '' })
    }
    // What each part exposes is what docs/operations.md documents, and what the dashboard and the alert rules use.
    const exposed = new Set<string>()
    for (const port of [ports.idpMetrics, ports.exchangeMetrics, ports.brokerMetrics]) {
      const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text()
      for (const [, name, type] of text.matchAll(/^# TYPE (mqtt_oidc_\w+) (\w+)$/gm)) {
        exposed.add(name!)
        if (type === 'histogram') for (const suffix of ['_bucket', '_count', '_sum']) exposed.add(`${name}${suffix}`)
      }
    }
    const documented = [...readFileSync(join(root, 'docs/operations.md'), 'utf8').matchAll(/^\| `(mqtt_oidc_\w+)` \|/gm)].map((m) => m[1]!)
    expect([...exposed].filter((name) => !/_(bucket|count|sum)$/.test(name)).sort()).toEqual([...documented].sort())
    for (const file of ['deploy/grafana/mqtt-oidc.json', 'deploy/prometheus/alerts.yml']) {
      const used = new Set(readFileSync(join(root, file), 'utf8').match(/mqtt_oidc_\w+/g))
      for (const name of used) expect(exposed, `${file} uses ${name}`).toContain(name)
    }

    stack.kill('SIGTERM')
    const { code, stdout } = await stack.ended
    expect(code).toBe(0)
    const lines = stdout
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as { msg: string; app?: string })
    const closing = lines
      .slice(lines.findIndex((l) => l.msg === 'stopping'))
      .map((l) => l.msg)
      .filter((m) => / closed$/.test(m))
    expect(closing).toEqual(['broker closed', 'exchange closed', 'idp closed'])
  }, 120_000)
})

/** `node scripts/healthcheck.mjs <service>` with the service's environment, as the compose health checks run it. */
function runHealthcheck(service: string, env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [join(root, 'scripts/healthcheck.mjs'), service], {
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let stdout = ''
  let stderr = ''
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk
  })
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk
  })
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })))
}

/** A first port of `count` consecutive loopback ports that are free now. */
async function freePortRange(count: number): Promise<number> {
  for (;;) {
    const base = await freePort()
    if (base + count > 65535) continue
    const held: Server[] = []
    try {
      for (let port = base; port < base + count; port += 1) held.push(await hold(port))
      return base
    } catch {
      // one of them is taken: try another range
    } finally {
      for (const server of held) await new Promise((resolve) => server.close(resolve))
    }
  }
}

/** A server holding 127.0.0.1:`port`, as another program would. */
function hold(port: number): Promise<Server> {
  const server = createServer()
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, '127.0.0.1', () => resolve(server))
  })
}
