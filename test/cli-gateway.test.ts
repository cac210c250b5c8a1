import { existsSync, mkdtempSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { BIN } from './support/cli-bin.js'
import { runNode, startNode } from '@mqtt-oidc/test-support/run-tsx'
import type { RunResult } from '@mqtt-oidc/test-support/run-tsx'
import { completeDeviceLogin } from '@mqtt-oidc/test-support/idp-user-agent'
import { runTool } from './support/run-tool.js'
import { startTcpProxy } from './support/tcp-proxy.js'
import { startTestStack, type TestStack } from './support/start-test-stack.js'

// `mqtt-oidc gateway`, the demo gateway docker-compose runs: from an empty
// config dir it signs in with the device flow (a scripted browser approves
// it as the demo account), then publishes telemetry that a backend, holding
// an admin-issued credential, watches with mosquitto_sub. This is the
// README's docker-compose walkthrough, on loopback. The later tests reuse the
// login the first one makes, as a restarted gateway does (run the file whole).

let stack: TestStack
let env: NodeJS.ProcessEnv

const cli = (args: string[], extra: NodeJS.ProcessEnv = {}): Promise<RunResult> => runNode(BIN, args, { cwd: stack.dataDir, env: { ...env, ...extra } })

const READING = /^devices\/(\S+)\/telemetry (\{.*\})$/

beforeAll(async () => {
  stack = await startTestStack()
  env = {
    MQTT_OIDC_CLI_ISSUER: stack.idpUrl,
    MQTT_OIDC_CLI_EXCHANGE_URL: stack.exchangeUrl,
    MQTT_OIDC_CLI_BROKER_URL: stack.mqttUrl,
    MQTT_OIDC_CLI_CONFIG_DIR: join(stack.dataDir, 'gateway'),
    MQTT_OIDC_DATA_DIR: stack.dataDir,
  }
}, 60_000)

afterAll(async () => {
  await stack?.close()
})

async function watcherToken(clientId: string): Promise<string> {
  const r = await cli(['broker', 'issue', 'demo', '--client-id', clientId, '--expiration', '15m'])
  expect([r.code, r.stderr]).toEqual([0, ''])
  return (JSON.parse(r.stdout) as Record<string, string>)[clientId]!
}

describe('mqtt-oidc gateway', () => {
  it('signs in with the device flow when it has no login, then publishes telemetry a backend sees', async () => {
    const token = await watcherToken('watcher-1')
    const watcher = runTool(
      'mosquitto_sub',
      ['-h', '127.0.0.1', '-p', String(stack.mqttPort), '-i', 'watcher-1', '-u', 'watcher-1', '-P', token, '-t', 'devices/#', '-q', '1', '-C', '3', '-v', '-d'],
      60_000,
    )
    await watcher.printed('received SUBACK')

    const statusFile = join(stack.dataDir, 'gateway-status.json')
    const gateway = startNode(BIN, ['gateway', '--broker', 'demo', '--every', '1s', '--count', '3', '--status-file', statusFile], { cwd: stack.dataDir, env })
    await gateway.waitForStderr(/^Waiting for approval/m)
    const url = /^Or open \(or scan\) (\S+)$/m.exec(gateway.stderr())?.[1] ?? ''
    const page = await completeDeviceLogin({ verificationUriComplete: url, username: stack.demo.username, password: stack.demo.password })
    expect(page.name).toBe('device-success')

    const r = await gateway.done
    expect(r.code, r.stderr).toBe(0)
    expect(r.stderr).toMatch(/^No usable login \(.*\): signing in with the device flow\.$/m)
    expect(r.stderr).toMatch(new RegExp(`^To sign in, open ${stack.idpUrl}/device and enter the code: \\S+$`, 'm'))
    expect(r.stderr).toMatch(/^Logged in to \S+ as demo \(MQTT client id \S+\)\.$/m)
    const lines = r.stdout.trim().split('\n')
    expect(lines).toHaveLength(3)
    const readings = lines.map((line) => {
      const [, clientid, json] = READING.exec(line) ?? []
      const reading = JSON.parse(json ?? 'null') as { seq: number; clientid: string; at: string; temperature_c: number; uptime_s: number }
      expect(reading.clientid).toBe(clientid)
      return reading
    })
    expect(readings.map((x) => x.seq)).toEqual([0, 1, 2])
    const clientid = readings[0]!.clientid
    expect(r.stderr).toContain(`Connected to demo as ${clientid}; publishing to devices/${clientid}/telemetry every 1s`)
    expect(readings.every((x) => typeof x.temperature_c === 'number' && !Number.isNaN(Date.parse(x.at)))).toBe(true)
    // No token on either stream.
    expect(`${r.stdout}${r.stderr}`).not.toMatch(/eyJ[\w-]+\.[\w-]+\./)

    // The backend saw the same three readings, through the broker.
    const watched = await watcher.exited
    expect(watched.code).toBe(0)
    expect(
      watched.stdout
        .trim()
        .split('\n')
        .filter((l) => l.startsWith('devices/')),
    ).toEqual(lines)

    expect(JSON.parse(readFileSync(statusFile, 'utf8'))).toMatchObject({ clientid, topic: `devices/${clientid}/telemetry`, seq: 2 })
    expect(statSync(statusFile).mode & 0o777).toBe(0o600)
    expect(statSync(join(stack.dataDir, 'gateway', 'tokens.json')).mode & 0o777).toBe(0o600)

    // A restart (the container's) reuses the login: no second approval.
    const again = await cli(['gateway', '--broker', 'demo', '--every', '1s', '--count', '1'])
    expect(again.code, again.stderr).toBe(0)
    expect(again.stderr).not.toContain('To sign in')
    expect(again.stdout).toMatch(new RegExp(`^devices/${clientid}/telemetry \\{"seq":0,`))
  }, 90_000)

  it('stops cleanly on SIGTERM (docker stop) after its last message is acknowledged', async () => {
    const statusFile = join(stack.dataDir, 'gateway-status-term.json')
    const gateway = startNode(BIN, ['gateway', '--broker', 'demo', '--every', '1s', '--status-file', statusFile], { cwd: stack.dataDir, env })
    await gateway.waitForStderr(/^Connected to demo/m)
    for (let i = 0; i < 100 && !existsSync(statusFile); i++) await sleep(100)
    gateway.kill('SIGTERM')
    const r = await gateway.done
    expect(r.code, r.stderr).toBe(0)
    expect(r.stdout).toMatch(/"seq":0,/)
  }, 30_000)

  it('stops promptly on SIGTERM while the broker is unreachable, saying the reading in flight was not acknowledged', async () => {
    const proxy = await startTcpProxy(stack.mqttPort)
    try {
      const gateway = startNode(BIN, ['gateway', '--broker', 'demo', '--every', '1s', '--url', proxy.url], { cwd: stack.dataDir, env })
      await gateway.waitForStderr(/^Connected to demo/m)
      await sleep(1500) // a reading or two acknowledged
      proxy.pause() // the network goes away; the next reading waits for an acknowledgement that cannot come
      await sleep(2500)
      // Before the fix it waited for the acknowledgement (docker would SIGKILL it), and this test timed out.
      gateway.kill('SIGTERM')
      const r = await gateway.done
      expect(r.code, r.stderr).toBe(0)
      expect(r.stderr).toMatch(/^Stopped with reading \d+ not acknowledged by the broker\.$/m)
    } finally {
      await proxy.close()
    }
  }, 30_000)

  it('with --no-login and no login, exits 2 without starting a device login', async () => {
    const r = await cli(['gateway', '--broker', 'demo', '--no-login', '--count', '1'], { MQTT_OIDC_CLI_CONFIG_DIR: mkdtempSync(join(stack.dataDir, 'empty-')) })
    expect(r.code).toBe(2)
    expect(r.stdout).toBe('')
    expect(r.stderr).not.toContain('To sign in')
    expect(r.stderr).toMatch(/^mqtt-oidc: not logged in/m)
  })

  it('refuses a topic outside the token ACL before publishing anything', async () => {
    const r = await cli(['gateway', '--broker', 'demo', '--topic', 'plant/{clientid}/telemetry', '--count', '1'])
    expect(r.code).toBe(1)
    expect(r.stdout).toBe('')
    expect(r.stderr).toMatch(
      /^mqtt-oidc: the broker token does not allow publishing to plant\/\S+\/telemetry \(its publish ACL: devices\/\$\{clientid\}\/#\)$/m,
    )
  })

  it('rejects bad options before any request', async () => {
    expect(await cli(['gateway', '--broker', 'demo', '--every', '0'])).toMatchObject({ code: 1, stdout: '' })
    expect((await cli(['gateway', '--broker', 'demo', '--topic', 'devices/#'])).stderr).toContain('not a valid MQTT topic to publish to')
  })
})
