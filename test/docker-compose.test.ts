import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { parse } from 'yaml'
import { loadConfig as loadIdpConfig } from '@mqtt-oidc/idp'
import { loadConfig as loadExchangeConfig } from '@mqtt-oidc/exchange'
import { loadBrokerConfig } from '@mqtt-oidc/broker'

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
  environment?: Record<string, string>
  ports?: string[]
  depends_on?: Record<string, { condition: string }>
  healthcheck?: { test: string[] }
}
const compose = parse(read('docker-compose.yml'), { merge: true }) as { services: Record<string, Service> }
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
      const config = load({ NODE_ENV: 'development', ...env(name) })
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

  it('has a health check on every service', () => {
    for (const [name, service] of Object.entries(services)) {
      expect(service.healthcheck?.test?.length, `${name} has a health check`).toBeGreaterThan(0)
    }
  })
})

describe('Dockerfile', () => {
  const dockerfile = read('Dockerfile')

  it('copies every workspace package manifest before installing', () => {
    for (const dir of workspaces) expect(dockerfile).toContain(`COPY ${dir}/package.json ${dir}/`)
  })

  it('runs as the non-root node user and starts a real root script', () => {
    expect(dockerfile).toMatch(/^USER node$/m)
    expect(dockerfile).toMatch(/^CMD \["pnpm", "start"\]$/m)
    expect(packageJsonRoot().scripts?.start).toBeTruthy()
  })

  it('bakes no secrets or data into the image', () => {
    const ignore = read('.dockerignore')
    expect(ignore).toMatch(/^\.data$/m)
    expect(existsSync(join(root, '.dockerignore'))).toBe(true)
  })
})

function packageJsonRoot() {
  return JSON.parse(read('package.json')) as { scripts?: Record<string, string> }
}
