import { join } from 'node:path'
import { decodeJwt } from 'jose'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { BIN } from './support/cli-bin.js'
import { runNode, startNode, type RunResult } from '@mqtt-oidc/test-support/run-tsx'
import { runTool } from './support/run-tool.js'
import { startGlewlwyd, type TestGlewlwyd } from './support/start-glewlwyd.js'
import { startTestStack, type TestStack } from './support/start-test-stack.js'

// Bring your own identity provider, with a real one nobody here wrote:
// Glewlwyd (Debian's package, C, SQLite) set up by the test. A person signs in
// there with the device flow, `mqtt-oidc login --issuer <glewlwyd>` keeps the
// login, the exchange trusts Glewlwyd with a claim mapping (the MQTT client id
// derived from `sub`, the username from preferred_username, else email), and
// the person's gateway publishes through the broker with the exchanged token.
// The tests run in order: the later ones use the first one's login.

const CLIENT_ID = 'mqtt-gateway'
const ANN = { username: 'ann', password: 'ann-password-123', email: 'ann@example.com', name: 'Ann' }

let glewlwyd: TestGlewlwyd
let stack: TestStack
let env: NodeJS.ProcessEnv
let sub: string

const cli = (args: string[]): Promise<RunResult> => runNode(BIN, [...args, '--issuer', glewlwyd.issuer, '--client-id', CLIENT_ID], { cwd: stack.dataDir, env })

beforeAll(async () => {
  glewlwyd = await startGlewlwyd({ user: ANN, client: { clientId: CLIENT_ID, redirectUris: ['http://127.0.0.1/callback'] } })
  stack = await startTestStack({
    trustedIssuers: [
      {
        issuer: glewlwyd.issuer,
        clientIds: [CLIENT_ID],
        clientIdClaim: 'sub',
        clientIdPrefix: 'gw-',
        usernameClaim: ['preferred_username', 'email'],
      },
    ],
  })
  env = {
    MQTT_OIDC_CLI_EXCHANGE_URL: stack.exchangeUrl,
    MQTT_OIDC_CLI_BROKER_URL: stack.mqttUrl,
    MQTT_OIDC_CLI_CONFIG_DIR: join(stack.dataDir, 'ann'),
    MQTT_OIDC_DATA_DIR: stack.dataDir,
  }
}, 60_000)
afterAll(async () => {
  await stack?.close()
  await glewlwyd?.close()
})

describe('Glewlwyd as the identity provider', () => {
  it('`mqtt-oidc login --device --issuer <glewlwyd>`: the person approves on Glewlwyd, the CLI keeps the login', async () => {
    const login = startNode(BIN, ['login', '--device', '--no-qr', '--scope', 'openid', '--issuer', glewlwyd.issuer, '--client-id', CLIENT_ID], {
      cwd: stack.dataDir,
      env,
    })
    await login.waitForStderr(/^Waiting for approval/m)
    const userCode = /enter the code: (\S+)$/m.exec(login.stderr())?.[1] ?? ''
    await glewlwyd.approveDevice(userCode, 'openid')
    const r = await login.done
    expect(r.code, `${r.stderr}\n${glewlwyd.log().slice(-2000)}`).toBe(0)
    expect(r.stderr).toMatch(new RegExp(`^To sign in, open ${glewlwyd.issuer}/device and enter the code: ${userCode}$`, 'm'))
    expect(r.stderr).toMatch(new RegExp(`^Logged in to ${glewlwyd.issuer} as ann\\.$`, 'm'))

    const who = await cli(['whoami', '--json'])
    expect(who.code, who.stderr).toBe(0)
    const claims = JSON.parse(who.stdout) as Record<string, string>
    expect(claims).toMatchObject({ iss: glewlwyd.issuer, aud: CLIENT_ID, preferred_username: 'ann', email: 'ann@example.com' })
    sub = claims.sub ?? ''
    expect(sub).toMatch(/^[A-Za-z0-9]+$/)
  }, 60_000)

  it("the exchange maps Glewlwyd's claims: client id from sub (prefixed), username from preferred_username", async () => {
    const r = await cli(['token', '--broker', 'demo'])
    expect(r.code, r.stderr).toBe(0)
    expect(decodeJwt(r.stdout.trim())).toMatchObject({ iss: stack.exchangeUrl, aud: 'demo', sub: `gw-${sub}`, username: 'ann' })
  })

  it("the person's gateway publishes through the broker, and a backend sees it", async () => {
    const issued = await runNode(BIN, ['broker', 'issue', 'demo', '--client-id', 'backend', '--expiration', '15m', '--acl-sub', 'devices/#'], {
      cwd: stack.dataDir,
      env,
    })
    const backendToken = (JSON.parse(issued.stdout) as Record<string, string>).backend ?? ''
    const watcher = runTool(
      'mosquitto_sub',
      [
        '-h',
        '127.0.0.1',
        '-p',
        String(stack.mqttPort),
        '-i',
        'backend',
        '-u',
        'backend',
        '-P',
        backendToken,
        '-t',
        'devices/#',
        '-q',
        '1',
        '-C',
        '2',
        '-v',
        '-d',
      ],
      30_000,
    )
    await watcher.printed('received SUBACK')
    const gateway = await cli(['gateway', '--broker', 'demo', '--every', '1s', '--count', '2'])
    expect(gateway.code, gateway.stderr).toBe(0)
    expect(gateway.stderr).toContain(`Connected to demo as gw-${sub}; publishing to devices/gw-${sub}/telemetry every 1s`)
    const lines = gateway.stdout.trim().split('\n')
    expect(lines.map((line) => line.split(' ')[0])).toEqual([`devices/gw-${sub}/telemetry`, `devices/gw-${sub}/telemetry`])
    const watched = await watcher.exited
    expect(
      watched.stdout
        .trim()
        .split('\n')
        .filter((l) => l.startsWith('devices/')),
    ).toEqual(lines)
  }, 60_000)
})
