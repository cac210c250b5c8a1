import { join } from 'node:path'
import { createTokenStore, discoverIssuer, loginWithDeviceFlow, tokenStoreKey } from '@mqtt-oidc/client'
import { completeDeviceLogin, ScriptedBrowser } from '@mqtt-oidc/test-support/idp-user-agent'
import { Gateway } from './gateway.js'
import type { GatewayEvents } from './gateway.js'
import type { Monitor } from './monitor.js'
import { runCli } from './run-cli.js'
import type { Stack } from './start-stack.js'
import { BROKER_ID } from './start-stack.js'

/** Devices per account: a few accounts, each signing in many devices (per-login client ids). */
const GATEWAYS_PER_ACCOUNT = 25
const LOGINS_IN_FLIGHT = 40
const STARTS_IN_FLIGHT = 20

/** Runs `work` over `items`, `limit` at a time. */
export async function eachLimited<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) await work(items[next++]!)
    }),
  )
}

/** A queue of work run one at a time (one person approving devices in one browser). */
function serial(): (work: () => Promise<void>) => Promise<void> {
  let tail: Promise<void> = Promise.resolve()
  return (work) => {
    const run = tail.then(work)
    tail = run.catch(() => undefined)
    return run
  }
}

/**
 * The fleet: `size` gateways, each logged in once with the device flow
 * (`mqtt-oidc login --device`, approved through the IdP's real pages by a
 * scripted person, one browser session per account), then started with
 * the client library's `connect()`.
 */
export async function createFleet(stack: Stack, runDir: string, size: number, events: GatewayEvents, monitor: Monitor): Promise<Gateway[]> {
  const accounts = Math.ceil(size / GATEWAYS_PER_ACCOUNT)
  const people = await Promise.all(
    Array.from({ length: accounts }, async (_, k) => {
      const username = `soak-${k}`
      const password = `soak-password-${k}-${Math.random().toString(36).slice(2)}`
      await runCli(['users', 'add', username, '--client-id', `gw${k}`, '--data-dir', stack.dataDir], {}, `${password}\n`)
      return { username, password, browser: new ScriptedBrowser(), approve: serial() }
    }),
  )
  monitor.note(`${accounts} accounts created with mqtt-oidc users add; ${size} device logins`)

  const gateways = Array.from(
    { length: size },
    (_, i) =>
      new Gateway(
        {
          index: i,
          issuer: stack.idpUrl,
          exchangeUrl: stack.exchangeUrl,
          broker: BROKER_ID,
          brokerUrl: stack.brokerUrls[i % stack.brokerUrls.length]!,
          configDir: join(runDir, 'gateways', `gw-${i}`),
        },
        events,
      ),
  )

  const started = Date.now()
  await eachLimited(gateways, LOGINS_IN_FLIGHT, async (g) => {
    const person = people[g.index % accounts]!
    const config = await discoverIssuer(stack.idpUrl, 'mqtt-oidc-cli', { cacheDir: g.settings.configDir })
    let approval: Promise<void> | undefined
    const tokens = await loginWithDeviceFlow(config, {
      // the person approves while the device polls, as at a real install
      onPrompt: (p) => {
        approval = person.approve(async () => {
          await completeDeviceLogin({
            verificationUriComplete: p.verificationUriComplete,
            username: person.username,
            password: person.password,
            browser: person.browser,
          })
        })
        approval.catch(() => undefined)
      },
    })
    await approval
    await createTokenStore(g.settings.configDir).set(tokenStoreKey(config), tokens)
  })
  monitor.note(`${size} gateways logged in (device flow) in ${((Date.now() - started) / 1000).toFixed(1)} s`)
  await eachLimited(gateways, STARTS_IN_FLIGHT, (g) => g.start())
  return gateways
}
