import { spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { freePort } from '@mqtt-oidc/test-support/free-port'

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
afterAll(() => { for (const dir of dirs) rmSync(dir, { recursive: true, force: true }) })

interface Running {
  /** Resolves once stdout has a line matching `pattern`. */
  waitFor(pattern: RegExp): Promise<void>
  kill(signal: NodeJS.Signals): void
  readonly ended: Promise<{ code: number | null; stdout: string; stderr: string }>
}

/** `node --conditions=@mqtt-oidc/source --import tsx <script>` with `env` only (and PATH, HOME). */
function start(script: string, env: Record<string, string>): Running {
  const child = spawn(process.execPath, ['--conditions=@mqtt-oidc/source', '--import', 'tsx', script], {
    cwd: root, env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'],
  })
  let stdout = ''
  let stderr = ''
  const waiters = new Set<() => void>()
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => { stdout += chunk; for (const check of waiters) check() })
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => { stderr += chunk })
  const ended = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })))
  return {
    ended,
    kill: (signal) => { child.kill(signal) },
    waitFor: (pattern) => new Promise((resolve, reject) => {
      const check = (): void => { if (pattern.test(stdout)) { waiters.delete(check); resolve() } }
      waiters.add(check)
      check()
      void ended.then((r) => reject(new Error(`exited ${String(r.code)} before ${String(pattern)}:\n${r.stdout}\n${r.stderr}`)))
    }),
  }
}

describe('every entry point with a bad variable', () => {
  it.each(Object.entries(ENTRY_POINTS))('%s exits 2 with one line naming the variable, and starts nothing', async (app, { script, variable }) => {
    const dataDir = mkdtempSync(join(tmpdir(), 'mqtt-oidc-runtime-'))
    dirs.push(dataDir)
    const ended = await start(script, { MQTT_OIDC_DATA_DIR: dataDir, [variable]: 'eighty' }).ended
    expect(ended).toEqual({ code: 2, stdout: '', stderr: `${app}: invalid configuration: ${variable}: must be a whole number from 0 to 65535\n` })
  }, 60_000)
})

describe('the embedded stack (scripts/start-stack.ts)', () => {
  it('starts the three apps through their own start functions, healthy and documented, and stops them in reverse order on SIGTERM, exiting 0', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'mqtt-oidc-runtime-'))
    dirs.push(dataDir)
    const ports = { idp: await freePort(), exchange: await freePort(), mqtt: await freePort(), idpMetrics: await freePort(), exchangeMetrics: await freePort(), brokerMetrics: await freePort() }
    const idp = `http://127.0.0.1:${ports.idp}`
    const exchange = `http://127.0.0.1:${ports.exchange}`
    const env = {
      MQTT_OIDC_DATA_DIR: dataDir, LOG_FORMAT: 'json',
      MQTT_OIDC_IDP_PORT: String(ports.idp), MQTT_OIDC_IDP_ISSUER: idp, MQTT_OIDC_IDP_EXCHANGE_URL: exchange, MQTT_OIDC_IDP_METRICS_PORT: String(ports.idpMetrics),
      MQTT_OIDC_EXCHANGE_PORT: String(ports.exchange), MQTT_OIDC_EXCHANGE_ISSUER: exchange, MQTT_OIDC_EXCHANGE_IDP_ISSUER: idp,
      MQTT_OIDC_EXCHANGE_METRICS_PORT: String(ports.exchangeMetrics),
      MQTT_OIDC_BROKER_EXCHANGE_URL: exchange, MQTT_OIDC_BROKER_MQTT_PORT: String(ports.mqtt), MQTT_OIDC_BROKER_WS_PORT: '0',
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
    const lines = stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { msg: string; app?: string })
    const closing = lines.slice(lines.findIndex((l) => l.msg === 'stopping')).map((l) => l.msg).filter((m) => / closed$/.test(m))
    expect(closing).toEqual(['broker closed', 'exchange closed', 'idp closed'])
  }, 120_000)
})

/** `node scripts/healthcheck.mjs <service>` with the service's environment, as the compose health checks run it. */
function runHealthcheck(service: string, env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [join(root, 'scripts/healthcheck.mjs'), service], { env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => { stdout += chunk })
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => { stderr += chunk })
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })))
}
