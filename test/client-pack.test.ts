import { spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { completeDeviceLogin } from '@mqtt-oidc/test-support/idp-user-agent'
import { runCommand } from '@mqtt-oidc/test-support/run-command'
import { packPackages, TYPESCRIPT_COMPILER, writeFiles, type Packed } from './support/pack-packages.js'
import { startTestStack, type TestStack } from './support/start-test-stack.js'

// The libraries as a user gets them: built, packed with `pnpm pack`, installed
// with npm into a project outside the workspace (third-party dependencies from
// the npm registry), and used from TypeScript compiled there, strict, against
// their .d.ts only. The client logs in with the device flow (approved through
// the IdP's pages), exchanges and connects against a running stack.

const PUBLISHED = ['core', 'jose', 'client', 'broker-auth', 'cli'] as const
const ROOT_LICENSE = readFileSync(new URL('../LICENSE', import.meta.url), 'utf8')

let stack: TestStack
let workDir: string
let packed: Map<string, Packed>

beforeAll(async () => {
  workDir = mkdtempSync(join(tmpdir(), 'mqtt-oidc-pack-'))
  ;[stack, packed] = await Promise.all([startTestStack(), packPackages(PUBLISHED, workDir)])
}, 180_000)
afterAll(async () => {
  await stack?.close()
  if (workDir) rmSync(workDir, { recursive: true, force: true })
})

/** The environment of the consumer's npm: this run's own npm settings (npm test sets npm_config_*) stay out. */
const npmEnv = (): NodeJS.ProcessEnv => Object.fromEntries(Object.entries(process.env).filter(([name]) => !/^npm_/i.test(name)))

describe('the published packages', () => {
  it('carry their build with types, the license, and resolved dependency versions; nothing of the workspace', () => {
    for (const name of PUBLISHED) {
      const { files, manifest } = packed.get(name)!
      expect(files, name).toEqual(expect.arrayContaining(['LICENSE', 'package.json', 'dist/index.js', 'dist/index.d.ts', 'src/index.ts']))
      expect(
        files.filter((f) => /tsbuildinfo|(^|\/)test\//.test(f)),
        name,
      ).toEqual([])
      // Every compiled module comes from a source in the package: no stale output.
      expect(
        files
          .filter((f) => f.startsWith('dist/') && f.endsWith('.js'))
          .map((f) => f.replace(/^dist\/(.*)\.js$/, 'src/$1.ts'))
          .filter((src) => !files.includes(src)),
        name,
      ).toEqual([])
      expect(manifest).toMatchObject({ version: '0.1.0', license: 'Apache-2.0', type: 'module' })
      expect(manifest).not.toHaveProperty('private')
      expect(
        Object.values(manifest.dependencies ?? {}).filter((spec) => /^(workspace|catalog):/.test(spec)),
        name,
      ).toEqual([])
      expect(readFileSync(join(workDir, 'workspace', 'packages', name, 'LICENSE'), 'utf8'), name).toBe(ROOT_LICENSE)
    }
    const deps = (name: string): string[] => Object.keys(packed.get(name)!.manifest.dependencies ?? {}).sort()
    expect(deps('core')).toEqual(['zod'])
    expect(deps('jose')).toEqual(['@mqtt-oidc/core'])
    expect(deps('client')).toEqual(['@mqtt-oidc/core', '@mqtt-oidc/jose', 'mqtt', 'openid-client'])
    expect(deps('broker-auth')).toEqual(['@mqtt-oidc/core', '@mqtt-oidc/jose', 'aedes'])
    expect(deps('cli')).toEqual(['@mqtt-oidc/client', '@mqtt-oidc/core', '@mqtt-oidc/jose', 'commander', 'mqtt', 'openid-client', 'qrcode-terminal'])
  })

  it('install outside the workspace, compile strictly against their types, and log in, exchange and connect', async () => {
    const app = join(workDir, 'app')
    const tarball = (name: string): string => `file:${packed.get(name)!.tarball}`
    writeFiles(app, {
      'package.json': JSON.stringify({
        name: 'mqtt-oidc-pack-consumer',
        private: true,
        type: 'module',
        dependencies: Object.fromEntries(PUBLISHED.map((name) => [`@mqtt-oidc/${name}`, tarball(name)])),
        devDependencies: { '@types/node': '^20.19.0' },
      }),
      'tsconfig.json': JSON.stringify({
        compilerOptions: {
          target: 'ES2022',
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          strict: true,
          noUncheckedIndexedAccess: true,
          exactOptionalPropertyTypes: true,
          skipLibCheck: false,
          types: ['node'],
          rootDir: 'src',
          outDir: 'dist',
        },
        include: ['src'],
      }),
      'src/main.ts': CONSUMER,
    })
    const install = await runCommand('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: app, env: npmEnv() })
    expect(install.code, install.stderr).toBe(0)
    const tree = await runCommand('npm', ['ls', '--all', '--parseable'], { cwd: app, env: npmEnv() })
    const installed = new Set(
      tree.stdout
        .split('\n')
        .filter(Boolean)
        .map((path) => path.replace(/^.*\/node_modules\//, '')),
    )
    // What only the services load never reaches a client: no database driver, no IdP, no web framework.
    for (const name of ['better-sqlite3', 'pg', 'oidc-provider', 'express', 'koa', '@mqtt-oidc/store', '@mqtt-oidc/idp', '@mqtt-oidc/exchange']) {
      expect(installed.has(name), name).toBe(false)
    }

    const compile = await runCommand(process.execPath, [TYPESCRIPT_COMPILER, '-p', app], { cwd: app })
    expect(compile.stdout + compile.stderr).toBe('')
    expect(compile.code).toBe(0)

    const cliHelp = await runCommand(join(app, 'node_modules', '.bin', 'mqtt-oidc'), ['--help'], { cwd: app })
    expect([cliHelp.code, cliHelp.stdout.split('\n')[0]]).toEqual([0, 'Usage: mqtt-oidc [options] [command]'])

    const child = spawn(process.execPath, ['dist/main.js', stack.idpUrl, stack.exchangeUrl, stack.brokerId, stack.mqttUrl, join(app, 'login')], { cwd: app })
    let stderr = ''
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d
    })
    const exited = new Promise<number | null>((resolve) => child.once('close', resolve))
    const lines = createInterface({ input: child.stdout })
    const printed: unknown[] = []
    for await (const line of lines) {
      const message = JSON.parse(line) as { prompt?: string }
      printed.push(message)
      // The person at the device: opens the link, signs in as the demo account, approves.
      if (message.prompt !== undefined)
        await completeDeviceLogin({ verificationUriComplete: message.prompt, username: stack.demo.username, password: stack.demo.password })
    }
    expect(await exited, stderr).toBe(0)
    expect(printed).toEqual([
      { prompt: expect.stringMatching(new RegExp(`^${stack.idpUrl}/device\\?user_code=`)) },
      { exchanged: { clientId: stack.demo.clientId, audience: stack.brokerId } },
      { connected: stack.demo.clientId, received: `devices/${stack.demo.clientId}/hello from a packed client` },
    ])
  }, 240_000)
})

/** The consumer: what a gateway's author writes against the published library. */
const CONSUMER = `
import { connect, createTokenStore, exchangeToken, login } from '@mqtt-oidc/client'
import type { BrokerToken, DevicePrompt } from '@mqtt-oidc/client'
import { isValidTopicName } from '@mqtt-oidc/core'
import { decodeJwtPayload } from '@mqtt-oidc/jose'

const [issuer, exchangeUrl, broker, brokerUrl, configDir] = process.argv.slice(2)
if (!issuer || !exchangeUrl || !broker || !brokerUrl || !configDir) throw new Error('usage: main <issuer> <exchange> <broker> <broker url> <config dir>')
const say = (message: object): void => { process.stdout.write(JSON.stringify(message) + '\\n') }

const tokenStore = createTokenStore(configDir)
const tokens = await login({
  issuer, tokenStore,
  onPrompt: (prompt: DevicePrompt) => say({ prompt: prompt.verificationUriComplete ?? prompt.verificationUri }),
})
const exchanged: BrokerToken = await exchangeToken({ exchangeUrl, broker, subjectToken: tokens.idToken })
say({ exchanged: { clientId: exchanged.clientId, audience: decodeJwtPayload(exchanged.token).aud } })

const client = await connect({ issuer, exchangeUrl, broker, brokerUrl, tokenStore })
const topic = \`devices/\${client.options.clientId ?? ''}/hello\`
if (!isValidTopicName(topic)) throw new Error(\`not a topic: \${topic}\`)
await client.subscribeAsync(topic, { qos: 1 })
const received = new Promise<string>((resolve) => client.once('message', (t: string, payload: Buffer) => resolve(\`\${t} \${payload.toString()}\`)))
await client.publishAsync(topic, 'from a packed client', { qos: 1 })
say({ connected: client.options.clientId, received: await received })
await client.endAsync()
`
