import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { parse } from 'yaml'
import { loadConfig as loadIdpConfig } from '@mqtt-oidc/idp'
import { loadConfig as loadExchangeConfig } from '@mqtt-oidc/exchange'
import { loadBrokerConfig } from '@mqtt-oidc/broker'
import { CLI_ENVIRONMENT_VARIABLES, readCliEnv } from '../packages/client/src/cli/cli-env.js'
import { createProgram } from '../packages/client/src/cli/create-program.js'

// There is no Docker engine here, so docker-compose.yml and the Dockerfile are
// checked against the code instead: every command is a real package script
// the README also runs, every variable is one the app's config schema knows,
// and ports and URLs agree between services.

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
const env = (name: string): Record<string, string> => services[name]?.environment ?? {}
const workspaces = ['apps', 'packages'].flatMap((dir) => readdirSync(join(root, dir)).map((name) => `${dir}/${name}`))
const packageJson = (dir: string) => JSON.parse(read(`${dir}/package.json`)) as { name: string; scripts?: Record<string, string> }

const loaders: Record<string, (e: NodeJS.ProcessEnv) => { port?: number; mqttPort?: number; wsPort?: number; emqxHookPort?: number }> = {
  idp: loadIdpConfig,
  exchange: loadExchangeConfig,
  broker: loadBrokerConfig,
  'emqx-hook': loadBrokerConfig,
}
/** The package script each app service runs. */
const scripts: Record<string, string> = { idp: 'start', exchange: 'start', broker: 'start', 'emqx-hook': 'start:emqx-hook' }

describe('docker-compose.yml', () => {
  it('runs every app service through a real package start script that the README documents', () => {
    const readme = read('README.md')
    for (const name of Object.keys(loaders)) {
      const command = services[name]?.command ?? []
      expect(command.slice(0, 2)).toEqual(['pnpm', '--filter'])
      const pkg = command[2]!
      const script = scripts[name]!
      expect(command[3]).toBe(script)
      const dir = workspaces.find((d) => packageJson(d).name === pkg)
      expect(dir, `${pkg} is a workspace package`).toBeDefined()
      expect(packageJson(dir!).scripts?.[script], `${pkg} has a ${script} script`).toBeTruthy()
      expect(readme).toContain(`pnpm --filter ${pkg} ${script}`)
    }
  })

  it('gives each app only variables its config schema knows, and listens where the ports are published', () => {
    for (const [name, load] of Object.entries(loaders)) {
      expect(env(name).NODE_ENV, `${name}: the image defaults to production, the http://localhost demo needs development`).toBe('development')
      const config = load(env(name))
      const published = (services[name]?.ports ?? []).map((p) => Number(p.split(':')[1]))
      // The EMQX hook is reached only inside the network; it publishes nothing.
      const listening = name === 'emqx-hook' ? [] : [config.port, config.mqttPort, config.wsPort].filter((p): p is number => typeof p === 'number')
      expect(published.sort()).toEqual(listening.sort())
    }
  })

  it('agrees on issuers and internal URLs between services', () => {
    const idp = loadIdpConfig(env('idp'))
    const exchange = loadExchangeConfig(env('exchange'))
    const broker = loadBrokerConfig(env('broker'))
    expect(exchange.idp.issuer).toBe(idp.issuer)
    expect(idp.exchangeUrl).toBe(exchange.issuer)
    expect(broker.issuer).toBe(exchange.issuer)
    expect(new URL(exchange.idp.jwksUri!)).toMatchObject({ hostname: 'idp', port: String(idp.port) })
    expect(new URL(broker.exchangeUrl)).toMatchObject({ hostname: 'exchange', port: String(exchange.port) })
    expect(services.exchange?.depends_on?.idp?.condition).toBe('service_healthy')
    expect(services.broker?.depends_on?.exchange?.condition).toBe('service_healthy')
  })

  it('keeps the IdP and the exchange on the postgres service, which they wait for', () => {
    const pg = env('postgres')
    const expected = `postgres://${pg.POSTGRES_USER}:${pg.POSTGRES_PASSWORD}@postgres:5432/${pg.POSTGRES_DB}`
    expect([loadIdpConfig(env('idp')).store, loadExchangeConfig(env('exchange')).store]).toEqual([expected, expected])
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
    const authn = env('emqx').EMQX_AUTHENTICATION ?? ''
    const authz = env('emqx').EMQX_AUTHORIZATION__SOURCES ?? ''
    for (const raw of [authn, authz]) {
      // Compose interpolates ${...} itself: EMQX's placeholders must be written $${...}.
      expect(raw).not.toMatch(/(^|[^$])\$\{/)
    }
    expect(authn).toContain(`url = "http://emqx-hook:${hook.emqxHookPort}/emqx/authn"`)
    expect(authn.replaceAll('$$', '$')).toContain('password = "${password}"')
    expect(authz).toContain(`url = "http://emqx-hook:${hook.emqxHookPort}/emqx/authz"`)
    expect(authz.replaceAll('$$', '$')).toContain('topic = "${topic}"')
    expect(env('emqx').EMQX_AUTHORIZATION__NO_MATCH).toBe('deny')
    expect(services.emqx?.depends_on?.['emqx-hook']?.condition).toBe('service_healthy')
  })

  it('has a health check on every service `docker compose up` starts', () => {
    for (const [name, service] of Object.entries(services)) {
      if (service.profiles !== undefined) continue // run on demand (`docker compose run --rm cli ...`), not kept up
      expect(service.healthcheck?.test?.length, `${name} has a health check`).toBeGreaterThan(0)
    }
  })

  it('runs the demo gateway as `mqtt-oidc gateway` with valid options, on the public URLs, publishing to the aedes broker', async () => {
    const gateway = services.gateway!
    const command = gateway.command ?? []
    expect(command.slice(0, 3)).toEqual(['pnpm', 'mqtt-oidc', 'gateway'])
    expect(packageJsonRoot().scripts?.['mqtt-oidc']).toBe('tsx packages/client/src/cli/main.ts')
    const opts = await parseCli(command.slice(2))
    const broker = loadBrokerConfig(env('broker'))
    expect(opts.broker).toBe(broker.brokerId)

    // A device uses the issuer its ID token names, so it shares the host's network and its published ports.
    expect(gateway.network_mode).toBe('host')
    expect(gateway.ports).toBeUndefined()
    for (const name of Object.keys(env('gateway'))) expect(CLI_ENVIRONMENT_VARIABLES).toContain(name)
    const cliEnv = readCliEnv(env('gateway'))
    expect(cliEnv.issuer).toBe(loadIdpConfig(env('idp')).issuer)
    expect(cliEnv.exchangeUrl).toBe(loadExchangeConfig(env('exchange')).issuer)
    const brokerUrl = new URL(cliEnv.brokerUrl!)
    expect(brokerUrl).toMatchObject({ protocol: 'mqtt:', hostname: 'localhost' })
    expect(services.broker?.ports).toContain(`${brokerUrl.port}:${broker.mqttPort}`)
    for (const url of [cliEnv.issuer!, cliEnv.exchangeUrl!]) {
      const published = (name: string) => services[name]?.ports ?? []
      expect([...published('idp'), ...published('exchange')]).toContain(`${new URL(url).port}:${new URL(url).port}`)
    }

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
    expect(gateway.healthcheck?.test.join(' ')).toContain(`statSync('${opts.statusFile}')`)
    expect(gateway.healthcheck?.start_period).toBeDefined()
    expect(gateway.depends_on?.broker?.condition).toBe('service_healthy')
    expect(read('README.md')).toContain('docker compose logs -f gateway')
  })

  it('offers the CLI as an on-demand service that reads the admin credential read-only', () => {
    const cli = services.cli!
    expect(cli.profiles).toEqual(['tools'])
    expect(cli.entrypoint).toEqual(['pnpm', 'mqtt-oidc'])
    expect(cli.network_mode).toBe('host')
    expect(cli.volumes).toEqual([`data:${env('cli').MQTT_OIDC_DATA_DIR}:ro`])
    expect(loadIdpConfig(env('idp')).dataDir).toBe(env('cli').MQTT_OIDC_DATA_DIR)
    for (const name of Object.keys(env('cli'))) expect(CLI_ENVIRONMENT_VARIABLES).toContain(name)
    expect(read('README.md')).toContain('docker compose run --rm cli broker issue demo')
  })
})

describe('Dockerfile', () => {
  const dockerfile = read('Dockerfile')

  it('copies every workspace package manifest before installing', () => {
    for (const dir of workspaces) expect(dockerfile).toContain(`COPY ${dir}/package.json ${dir}/`)
  })

  it('runs as the non-root node user and starts a root script that installs nothing', () => {
    expect(dockerfile).toMatch(/^USER node$/m)
    expect(dockerfile).toMatch(/^CMD \["pnpm", "start:stack"\]$/m)
    expect(packageJsonRoot().scripts?.['start:stack']).toBe('tsx scripts/start-stack.ts')
  })

  it('is multi-stage and ships production dependencies only, with no compiler in the runtime stage', () => {
    const stages = dockerfile.split(/^FROM /m).slice(1)
    expect(stages).toHaveLength(2)
    const [build, runtime] = stages as [string, string]
    expect(build).toMatch(/^RUN pnpm install --frozen-lockfile --prod\b/m)
    expect(runtime).toMatch(/^COPY --from=deps \/app \/app$/m)
    expect(runtime).not.toMatch(/apt-get|g\+\+|pnpm install/)
    expect(runtime).toMatch(/^ENV NODE_ENV=production /m)
    // What the apps run with must be a production dependency where it runs (test/production-install.test.ts boots them so).
    expect(packageJsonRoot().dependencies?.tsx).toBeTruthy()
    for (const dir of ['apps/idp', 'apps/exchange', 'apps/broker', 'packages/client']) {
      expect((JSON.parse(read(`${dir}/package.json`)) as { dependencies?: Record<string, string> }).dependencies?.tsx, `${dir} has tsx`).toBeTruthy()
    }
  })

  it('bakes no secrets or data into the image', () => {
    const ignore = read('.dockerignore')
    expect(ignore).toMatch(/^\.data$/m)
    expect(existsSync(join(root, '.dockerignore'))).toBe(true)
  })
})

function packageJsonRoot() {
  return JSON.parse(read('package.json')) as { scripts?: Record<string, string>; dependencies?: Record<string, string> }
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
