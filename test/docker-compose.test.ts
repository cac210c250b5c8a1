import { spawnSync } from 'node:child_process'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { parse } from 'yaml'
import { loadConfig as loadIdpConfig } from '@mqtt-oidc/idp'
import { loadConfig as loadExchangeConfig } from '@mqtt-oidc/exchange'
import { loadBrokerConfig } from '@mqtt-oidc/broker'
import { CLI_ENVIRONMENT_VARIABLES, readCliEnv } from '@mqtt-oidc/cli'
import { createProgram } from '@mqtt-oidc/cli'

// docker-compose.yml and the Dockerfile checked against the code, for what a
// run cannot show here: the EMQX service (no EMQX image on this machine; its
// hook runs in test/docker-compose-podman.test.ts) and every setting read by
// the apps' own config schemas. test/docker-compose-podman.test.ts runs the
// rest of the file for real.

const root = join(import.meta.dirname, '..')
const read = (path: string): string => readFileSync(join(root, path), 'utf8')

interface Service {
  build?: unknown
  image?: string
  command?: string[]
  entrypoint?: string[]
  profiles?: string[]
  network_mode?: string
  volumes?: string[]
  environment?: Record<string, string>
  ports?: string[]
  depends_on?: Record<string, { condition: string }>
  healthcheck?: { test: string[]; start_period?: string }
}
const compose = parse(read('docker-compose.yml'), { merge: true }) as { services: Record<string, Service>; volumes: Record<string, unknown> }
const services = compose.services

/** Compose's variable interpolation with nothing set: `${NAME:-default}` is its default, `$$` a literal `$`. */
function interpolate(value: string, vars: Record<string, string> = {}): string {
  return value.replace(/\$\$|\$\{(\w+)(?::-([^}]*))?\}/g, (whole, name?: string, fallback?: string) => {
    if (whole === '$$') return '$'
    return vars[name!] ?? fallback ?? ''
  })
}
const env = (name: string, vars: Record<string, string> = {}): Record<string, string> =>
  Object.fromEntries(Object.entries(services[name]?.environment ?? {}).map(([k, v]) => [k, interpolate(String(v), vars)]))
/** [host address, host port, container port] of each published port. */
const published = (name: string, vars: Record<string, string> = {}): Array<[string, number, number]> =>
  (services[name]?.ports ?? []).map((p) => {
    const [address, host, inside] = interpolate(p, vars).split(':')
    return [address!, Number(host), Number(inside)]
  })
const workspaces = ['apps', 'packages'].flatMap((dir) => readdirSync(join(root, dir)).map((name) => `${dir}/${name}`))
const packageJson = (dir: string) => JSON.parse(read(`${dir}/package.json`)) as { name: string; scripts?: Record<string, string>; dependencies?: Record<string, string> }

const loaders: Record<string, (e: NodeJS.ProcessEnv) => { port?: number; mqttPort?: number; wsPort?: number; emqxHookPort?: number }> = {
  idp: loadIdpConfig,
  exchange: loadExchangeConfig,
  broker: loadBrokerConfig,
  'emqx-hook': loadBrokerConfig,
}
/** The app and package script each app service runs. */
const entries: Record<string, { dir: string; script: string }> = {
  idp: { dir: 'apps/idp', script: 'start' },
  exchange: { dir: 'apps/exchange', script: 'start' },
  broker: { dir: 'apps/broker', script: 'start' },
  'emqx-hook': { dir: 'apps/broker', script: 'start:emqx-hook' },
}

describe('docker-compose.yml', () => {
  it('runs each app with node on its compiled entry point, the one its package start script runs', () => {
    for (const [name, { dir, script }] of Object.entries(entries)) {
      const command = services[name]?.command ?? []
      expect(command[0], name).toBe('node')
      const entry = command[1]!
      expect(entry, name).toMatch(new RegExp(`^${dir}/dist/[\\w-]+\\.js$`))
      expect(packageJson(dir).scripts?.[script], `${dir} ${script}`).toBe(`node ${entry.slice(dir.length + 1)}`)
      // Compiled from a source that exists (tsc -b maps src/X.ts to dist/X.js).
      expect(existsSync(join(root, entry.replace('/dist/', '/src/').replace(/\.js$/, '.ts'))), entry).toBe(true)
    }
  })

  it('gives each app only variables its config schema knows, and listens where the ports are published, on loopback', () => {
    for (const [name, load] of Object.entries(loaders)) {
      expect(env(name).NODE_ENV, `${name}: the image defaults to production, the http://localhost demo needs development`).toBe('development')
      const config = load(env(name))
      // The EMQX hook is reached only inside the network; it publishes nothing.
      const listening = name === 'emqx-hook' ? [] : [config.port, config.mqttPort, config.wsPort].filter((p): p is number => typeof p === 'number')
      expect(published(name).map(([, , inside]) => inside).sort((a, b) => a - b)).toEqual(listening.sort((a, b) => a - b))
      for (const [address] of published(name)) expect(address, name).toBe('127.0.0.1')
    }
  })

  it('moves every host port with its MQTT_OIDC_COMPOSE_*_PORT variable, and the public URLs with them', () => {
    const vars = {
      MQTT_OIDC_COMPOSE_IDP_PORT: '14000', MQTT_OIDC_COMPOSE_EXCHANGE_PORT: '14001', MQTT_OIDC_COMPOSE_MQTT_PORT: '11883',
      MQTT_OIDC_COMPOSE_WS_PORT: '18083', MQTT_OIDC_COMPOSE_EMQX_PORT: '11884', MQTT_OIDC_COMPOSE_EMQX_DASHBOARD_PORT: '28083',
    }
    const hostPorts = Object.keys(services).flatMap((name) => published(name, vars).map(([, host]) => host))
    expect(hostPorts.sort((a, b) => a - b)).toEqual(Object.values(vars).map(Number).sort((a, b) => a - b))
    expect(Object.keys(services).flatMap((name) => published(name).map(([, host]) => host)).sort((a, b) => a - b)).toEqual([1883, 1884, 4000, 4001, 8083, 18083])
    expect(loadIdpConfig(env('idp', vars)).issuer).toBe('http://localhost:14000')
    expect(loadExchangeConfig(env('exchange', vars)).issuer).toBe('http://localhost:14001')
    expect(readCliEnv(env('gateway', vars)).issuer).toBe('http://localhost:14000')
    expect(loadExchangeConfig(env('exchange', vars)).bootstrapBrokers).toContainEqual(expect.objectContaining({ id: 'emqx', url: 'mqtt://localhost:11884' }))
  })

  it('agrees on public issuers, and reaches each service by its name inside the network', () => {
    const idp = loadIdpConfig(env('idp'))
    const exchange = loadExchangeConfig(env('exchange'))
    const broker = loadBrokerConfig(env('broker'))
    expect(idp.issuer).toBe('http://localhost:4000')
    expect(exchange.idp.issuer).toBe(idp.issuer)
    expect(idp.exchangeUrl).toBe(exchange.issuer)
    expect(broker.issuer).toBe(exchange.issuer)
    expect(new URL(exchange.idp.jwksUri!)).toMatchObject({ hostname: 'idp', port: String(idp.port) })
    expect(new URL(broker.exchangeUrl)).toMatchObject({ hostname: 'exchange', port: String(exchange.port) })
    expect(services.exchange?.depends_on?.idp?.condition).toBe('service_healthy')
    expect(services.broker?.depends_on?.exchange?.condition).toBe('service_healthy')
    for (const service of Object.values(services)) expect(service.network_mode).toBeUndefined()
  })

  it('keeps the IdP and the exchange on the postgres service, which they wait for; the CLI never opens it', () => {
    const pg = env('postgres')
    const expected = `postgres://${pg.POSTGRES_USER}:${pg.POSTGRES_PASSWORD}@postgres:5432/${pg.POSTGRES_DB}`
    expect([loadIdpConfig(env('idp')).store, loadExchangeConfig(env('exchange')).store, env('cli').MQTT_OIDC_STORE]).toEqual([expected, expected, undefined])
    expect(services.idp?.depends_on?.postgres?.condition).toBe('service_healthy')
    expect(services.exchange?.depends_on?.postgres?.condition).toBe('service_healthy')
    expect(services.postgres?.healthcheck?.test).toContain('pg_isready')
  })

  it('sends EMQX through the hook, which verifies tokens of the emqx broker the exchange creates on start', () => {
    const hook = loadBrokerConfig(env('emqx-hook'))
    const exchange = loadExchangeConfig(env('exchange'))
    expect(hook.brokerId).toBe('emqx')
    expect(exchange.bootstrapBrokers.map((b) => b.id)).toContain('emqx')
    expect(hook.issuer).toBe(exchange.issuer)
    expect(new URL(hook.exchangeUrl)).toMatchObject({ hostname: 'exchange', port: String(exchange.port) })
    const authn = services.emqx?.environment?.EMQX_AUTHENTICATION ?? ''
    const authz = services.emqx?.environment?.EMQX_AUTHORIZATION__SOURCES ?? ''
    for (const raw of [authn, authz]) {
      // Compose interpolates ${...} itself: EMQX's placeholders must be written $${...}.
      expect(raw).not.toMatch(/(^|[^$])\$\{/)
    }
    expect(authn).toContain(`url = "http://emqx-hook:${hook.emqxHookPort}/emqx/authn"`)
    expect(interpolate(authn)).toContain('password = "${password}"')
    expect(authz).toContain(`url = "http://emqx-hook:${hook.emqxHookPort}/emqx/authz"`)
    expect(interpolate(authz)).toContain('topic = "${topic}"')
    expect(services.emqx?.environment?.EMQX_AUTHORIZATION__NO_MATCH).toBe('deny')
    expect(services.emqx?.depends_on?.['emqx-hook']?.condition).toBe('service_healthy')
    expect(published('emqx').map(([, host, inside]) => [host, inside])).toEqual([[1884, 1883], [18083, 18083]])
  })

  it('has an exec-form health check on every service `up` starts, ours through scripts/healthcheck.mjs and the check named after the service', () => {
    const usage = spawnSync(process.execPath, [join(root, 'scripts/healthcheck.mjs')], { encoding: 'utf8' })
    expect(usage.status).toBe(2)
    const known = /usage: healthcheck\.mjs (\S+)/.exec(usage.stderr)![1]!.split('|')
    for (const [name, service] of Object.entries(services)) {
      if (service.profiles !== undefined) continue // run on demand (`docker compose run --rm cli ...`), not kept up
      const test = service.healthcheck?.test ?? []
      expect(test[0], name).toBe('CMD')
      // podman-compose passes the words through a shell: none may need quoting.
      for (const word of test.slice(1)) expect(word, name).toMatch(/^[\w./:=@-]+$/)
      if (service.image === 'mqtt-oidc:dev') {
        expect(test.slice(1, 4), name).toEqual(['node', 'scripts/healthcheck.mjs', name])
        expect(known, name).toContain(name)
      }
    }
    // The broker's check reads the feed lag from its metrics port, which stays inside the network.
    expect(loadBrokerConfig(env('broker')).metricsPort).toBe(9464)
  })

  it('runs the demo gateway as `mqtt-oidc gateway` on the compose network, showing the public URLs and reaching the services by name', async () => {
    const gateway = services.gateway!
    const command = gateway.command ?? []
    expect(command.slice(0, 2)).toEqual(['mqtt-oidc', 'gateway'])
    const opts = await parseCli(command.slice(1))
    const broker = loadBrokerConfig(env('broker'))
    expect(opts.broker).toBe(broker.brokerId)

    expect(gateway.ports).toBeUndefined()
    for (const name of Object.keys(env('gateway'))) expect(CLI_ENVIRONMENT_VARIABLES).toContain(name)
    const cliEnv = readCliEnv(env('gateway'))
    const idp = loadIdpConfig(env('idp'))
    const exchange = loadExchangeConfig(env('exchange'))
    // What it shows and checks: the public URLs. Where it sends its requests: the services.
    expect(cliEnv.issuer).toBe(idp.issuer)
    expect(cliEnv.exchangeUrl).toBe(exchange.issuer)
    expect(new URL(cliEnv.issuerFetchFrom!)).toMatchObject({ hostname: 'idp', port: String(idp.port) })
    expect(new URL(cliEnv.exchangeFetchFrom!)).toMatchObject({ hostname: 'exchange', port: String(exchange.port) })
    expect(new URL(cliEnv.brokerUrl!)).toMatchObject({ protocol: 'mqtt:', hostname: 'broker', port: String(broker.mqttPort) })

    // Its login survives restarts in a volume at the CLI's default config dir
    // (~/.config/mqtt-oidc of the image's `node` user), which the image creates for `node`.
    expect(env('gateway')).not.toHaveProperty('MQTT_OIDC_CLI_CONFIG_DIR')
    expect(env('gateway')).not.toHaveProperty('XDG_CONFIG_HOME')
    const configDir = '/home/node/.config/mqtt-oidc'
    expect(gateway.volumes).toEqual([`gateway:${configDir}`])
    expect(compose.volumes).toHaveProperty('gateway')
    expect(read('Dockerfile')).toMatch(/chown node:node [^\n]*\/home\/node\/\.config\/mqtt-oidc/)
    // Healthy while publishing: the health check reads the status file the command keeps rewriting.
    expect(opts.statusFile).toBe(`${configDir}/status.json`)
    expect(gateway.healthcheck?.test.slice(4)).toEqual([opts.statusFile, '30'])
    expect(gateway.healthcheck?.start_period).toBeDefined()
    expect(gateway.depends_on?.broker?.condition).toBe('service_healthy')
    expect(read('README.md')).toContain('docker compose logs -f gateway')
  })

  it('offers the CLI as an on-demand service that reads the admin credential read-only and reaches the services by name', () => {
    const cli = services.cli!
    expect(cli.profiles).toEqual(['tools'])
    expect(cli.entrypoint).toEqual(['mqtt-oidc'])
    expect(cli.volumes).toEqual([`data:${env('cli').MQTT_OIDC_DATA_DIR}:ro`])
    expect(loadIdpConfig(env('idp')).dataDir).toBe(env('cli').MQTT_OIDC_DATA_DIR)
    for (const name of Object.keys(env('cli'))) expect(CLI_ENVIRONMENT_VARIABLES).toContain(name)
    expect(readCliEnv(env('cli'))).toMatchObject({ issuerFetchFrom: env('gateway').MQTT_OIDC_CLI_ISSUER_FETCH_FROM, exchangeFetchFrom: env('gateway').MQTT_OIDC_CLI_EXCHANGE_FETCH_FROM })
    expect(read('README.md')).toContain('docker compose run --rm cli broker issue demo')
  })
})

describe('Dockerfile', () => {
  const dockerfile = read('Dockerfile')
  const stages = dockerfile.split(/^FROM /m).slice(1)
  const runtime = stages.at(-1)!

  it('copies every workspace package manifest before installing', () => {
    for (const dir of workspaces) expect(dockerfile).toContain(`COPY ${dir}/package.json ${dir}/`)
  })

  it('installs production dependencies in one stage, compiles in another, and ships only their output', () => {
    const stage = (name: string): string => stages.find((s) => s.startsWith(`toolchain AS ${name}\n`)) ?? ''
    expect(stage('deps')).toMatch(/pnpm install --frozen-lockfile --prod /)
    expect(stage('build')).toMatch(/^RUN pnpm run build/m)
    expect(packageJsonRoot().scripts?.build).toBe('tsc -b tsconfig.build.json')
    expect(runtime).toMatch(/^COPY --from=deps \/app \/app$/m)
    expect(runtime).toMatch(/^COPY --from=build \/out \/app$/m)
    expect(runtime).toMatch(/^COPY scripts\/healthcheck\.mjs scripts\/$/m)
  })

  it('runs node as the non-root node user, with no package manager, TypeScript or compiler at run time', () => {
    expect(runtime).toMatch(/^USER node$/m)
    expect(runtime).toMatch(/^CMD \["node", "--enable-source-maps", "dist\/start-stack\.js"\]$/m)
    expect(packageJsonRoot().scripts?.['start:stack']).toBe('node --enable-source-maps dist/start-stack.js')
    expect(runtime).not.toMatch(/apt-get|g\+\+|pnpm|tsx|npm i/)
    expect(runtime).toMatch(/^ENV NODE_ENV=production /m)
    // Nothing the apps run with needs tsx: no package the production install holds depends on it.
    const installed = productionWorkspaces()
    expect(installed).not.toContain('packages/test-support')
    for (const dir of installed) expect(packageJson(dir).dependencies?.tsx, `${dir} has no tsx dependency`).toBeUndefined()
  })

  it('bakes no secrets, data or local builds into the image, and takes a CA bundle only as a build secret', () => {
    const ignore = read('.dockerignore').split('\n')
    for (const entry of ['.data', 'node_modules', '**/node_modules', 'dist', '**/dist', '.git']) expect(ignore).toContain(entry)
    expect(dockerfile).not.toMatch(/^(ARG|ENV)[^\n]*(NODE_EXTRA_CA_CERTS|SSL_CERT|ca-certificates)/m)
    expect(dockerfile).toMatch(/--mount=type=secret,id=ca-certificates/)
  })
})

function packageJsonRoot() {
  return packageJson('.')
}

/** The root and the workspace packages `pnpm install --prod` installs: the root's dependencies and theirs, transitively. */
function productionWorkspaces(): string[] {
  const byName = new Map(workspaces.map((dir) => [packageJson(dir).name, dir]))
  const found = ['.']
  for (let i = 0; i < found.length; i++) {
    for (const name of Object.keys(packageJson(found[i]!).dependencies ?? {})) {
      const dir = byName.get(name)
      if (dir !== undefined && !found.includes(dir)) found.push(dir)
    }
  }
  return found
}

/** Parses a `mqtt-oidc` command line as the CLI would, without running it: its options, or the CLI's own error. */
async function parseCli(argv: string[]): Promise<Record<string, unknown>> {
  const out: string[] = []
  const sink = { write: (text: string) => out.push(text) } as unknown as NodeJS.WritableStream
  const program = createProgram({ stdout: sink, stderr: sink, stdin: process.stdin, env: readCliEnv({}) })
  let parsed: Record<string, unknown> | undefined
  program.commands.find((c) => c.name() === argv[0])!.action((opts: Record<string, unknown>) => {
    parsed = opts
  })
  await program.parseAsync(argv, { from: 'user' }).catch((err: unknown) => {
    throw new Error(`${argv.join(' ')}: ${out.join('')}`, { cause: err })
  })
  return parsed!
}
