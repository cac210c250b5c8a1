import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createAdminClient, createTokenStore } from '@mqtt-oidc/client'
import {
  cutFeed,
  fleetBack,
  probeNewCredential,
  probeRevocation,
  restartBrokers,
  restartExchange,
  restartIdp,
  restartPostgres,
  restartRedis,
  revokeAtRandom,
  rotateKeys,
  stallFeed,
} from './lib/faults.js'
import type { FaultFigures, SoakContext } from './lib/faults.js'
import { createFleet } from './lib/fleet.js'
import { startObservers } from './lib/observers.js'
import type { Observers } from './lib/observers.js'
import type { Gateway } from './lib/gateway.js'
import { watchMemory } from './lib/memory-watch.js'
import type { MemoryFigures } from './lib/memory-watch.js'
import { BreachError, Monitor } from './lib/monitor.js'
import type { Breach, KnownFault } from './lib/monitor.js'
import { describe, SoakState } from './lib/soak-state.js'
import { startStack } from './lib/start-stack.js'
import type { Stack } from './lib/start-stack.js'
import { percentile } from '../lib/broker-token-fixture.js'
import { longestIdleTimeout, systemTimeouts } from './lib/system-timeouts.js'
import type { SystemTimeout } from './lib/system-timeouts.js'

export interface SoakOptions {
  readonly store: 'sqlite' | 'postgres'
  /** Gateways in the fleet. */
  readonly gateways: number
  /** Seconds of soak once the fleet is up: rounds of faults and quiet spells while they fit (at least one round). */
  readonly durationS: number
  /** Lifetime of the gateways' broker tokens (the broker's expiration), seconds. */
  readonly tokenLifetimeS: number
  /** ID token lifetime (so that refreshes happen too), seconds. */
  readonly idTokenTtlS: number
  /** Each gateway publishes one QoS 1 reading this often, seconds. */
  readonly readingEveryS: number
  /** Random revocations between faults: one this often on average, seconds. */
  readonly revokeEveryS: number
  /** A revoked session must be closed this soon after the revocation request, ms. */
  readonly revokeDeadlineMs: number
  /**
   * Lead time of the key rotations, seconds: longer than an exchange instance
   * takes to load a key another made (60 s) plus a broker's JWKS refresh
   * (60 s), so that every broker holds a key before any token it signed
   * arrives, even while the feed (and JWKS) path is cut.
   */
  readonly keyLeadS: number
  /** Quiet spell length, seconds. Default: twice the longest timeout that runs down while idle, plus 15 s. */
  readonly quietS?: number | undefined
  /** Keep the run's directory (logs, data) even when it passes. */
  readonly keep?: boolean | undefined
  /** Record every breach and go on, instead of ending at the first (to see all a run finds). */
  readonly keepGoing?: boolean | undefined
  /** Faults found before and being fixed elsewhere: reported, not breaches. `pnpm soak` passes none. */
  readonly knownFaults?: readonly KnownFault[] | undefined
  readonly print: (line: string) => void
}

export const SOAK_DEFAULTS = {
  gateways: 200,
  durationS: 600,
  tokenLifetimeS: 90,
  idTokenTtlS: 300,
  readingEveryS: 15,
  revokeEveryS: 5,
  revokeDeadlineMs: 1000,
  keyLeadS: 150,
} as const

export interface SoakReport {
  readonly store: 'sqlite' | 'postgres'
  readonly gateways: number
  /** Seconds from the fleet being up to the end of the last check. */
  readonly ranS: number
  readonly rounds: number
  readonly quietS: number
  readonly longestIdleTimeoutS: number
  /** The first breach (the run ended there unless `keepGoing`). */
  readonly breach: Breach | undefined
  readonly breaches: readonly Breach[]
  readonly knownFaultsSeen: ReadonlyArray<{ fault: KnownFault; times: number }>
  readonly renewals: number
  readonly renewalsPerSec: number
  /** Revocations of live sessions (feed up) timed to the session's close; `superseded`: the gateway had switched to a renewed token first. */
  readonly revocations: { count: number; superseded: number; p50Ms: number; p99Ms: number; maxMs: number }
  readonly readings: { acked: number; delivered: number; excused: number }
  readonly expectedRefusals: number
  readonly gatewayRestarts: number
  readonly faults: FaultFigures
  readonly memory: MemoryFigures[]
  readonly timeouts: SystemTimeout[]
  /** Where the logs are (kept when the run failed, or with `keep`). */
  readonly runDir: string | undefined
}

/** Random revocations between two faults, seconds. */
const FAULT_PAUSE_S = 6
/** How long the revocation feed is cut (under the 60 s staleness limit), seconds. */
const FEED_CUT_S = 15
/** Longest time a broker may keep a silent revocation stream: under its 60 s staleness limit, seconds. */
const STALL_LIMIT_S = 55

/**
 * One soak run: the stack as separate processes on `store`, a fleet of
 * gateways on the client library, and rounds of [faults, quiet spell]
 * while the invariants are checked; the first breach ends it.
 */
export async function runSoak(options: SoakOptions): Promise<SoakReport> {
  const monitor = new Monitor(options.print, options.keepGoing === true, options.knownFaults)
  const timeouts = systemTimeouts()
  const longest = longestIdleTimeout(timeouts)
  const quietS = options.quietS ?? 2 * longest + 15
  const runDir = mkdtempSync(join(tmpdir(), `mqtt-oidc-soak-${options.store}-`))
  const figures: FaultFigures = { storms: [], streamReplacedMs: [], revokedDuringCutMs: [], rotations: [], restarts: {} }
  let stack: Stack | undefined
  let state: SoakState | undefined
  let gateways: Gateway[] = []
  let observers: Observers | undefined
  let memory: ReturnType<typeof watchMemory> | undefined
  let readings: NodeJS.Timeout | undefined
  let delivery: NodeJS.Timeout | undefined
  let fleetUpAt = Date.now()
  let rounds = 0

  try {
    monitor.note(`${options.store}: starting the stack in ${runDir}`)
    stack = await startStack({ store: options.store, runDir, idTokenTtlS: options.idTokenTtlS }, monitor)
    // renewals come before expiry: the broker never has to cut a session whose token expired
    for (const broker of stack.brokers) {
      broker.onEntry((e) => {
        if (e.msg === 'session closed: token expired')
          monitor.fail('renewal-failed', `${broker.name} cut ${String(e.client_id)} off at its token's expiry: it was not renewed in time`)
      })
    }
    const admin = createAdminClient({ dataDir: stack.dataDir })
    const s = (state = new SoakState(monitor, admin))
    s.excuseBackendAway = options.store === 'sqlite'
    observers = await startObservers(stack, admin, s, monitor, options.tokenLifetimeS)
    s.backend = observers.backend

    gateways = await createFleet(stack, runDir, options.gateways, s, monitor)
    fleetUpAt = Date.now()
    monitor.note(`fleet up: ${gateways.length} gateways connected to ${stack.brokerUrls.length} broker node(s)`)
    readings = publishReadings(gateways, options.readingEveryS)
    const fleet = gateways
    delivery = setInterval(() => s.checkDelivery(fleet), 5000)
    memory = watchMemory(stack.apps, monitor, 10_000, () => !s.disrupted())

    const ctx: SoakContext = {
      stack,
      monitor,
      state: s,
      gateways,
      backend: observers.backend,
      idles: observers.idles,
      admin,
      revokeDeadlineMs: options.revokeDeadlineMs,
      keyLeadS: options.keyLeadS,
      figures,
    }
    rounds = await runSchedule(ctx, options, quietS, fleetUpAt + options.durationS * 1000)
    await fleetBack(ctx, 'at the end')
    // the last readings in flight arrive, then every acknowledged one must have
    clearInterval(readings)
    await monitor.sleep(5000)
    s.checkDelivery(gateways, true)
    await checkRotations(ctx, options)
    monitor.note('done')
  } catch (err) {
    if (!(err instanceof BreachError)) monitor.fail('setup', describe(err))
  } finally {
    clearInterval(readings)
    clearInterval(delivery)
    memory?.stop()
    monitor.finish() // the teardown below disconnects everyone: not a breach
  }

  const ranS = Math.round((Date.now() - fleetUpAt) / 1000)
  const revocations = state?.revocations ?? []
  const closeTimes = revocations.filter((r) => r.kind === 'live' && !r.superseded && r.closedAt !== undefined).map((r) => r.closedAt! - r.requestedAt)
  const renewals = state?.renewals ?? 0
  const report: SoakReport = {
    store: options.store,
    gateways: options.gateways,
    ranS,
    rounds,
    quietS,
    longestIdleTimeoutS: longest,
    breach: monitor.breach,
    breaches: monitor.breaches,
    knownFaultsSeen: monitor.knownFaultsSeen,
    renewals,
    renewalsPerSec: Math.round((renewals / Math.max(1, ranS)) * 100) / 100,
    revocations: {
      count: closeTimes.length,
      superseded: revocations.filter((r) => r.superseded).length,
      p50Ms: percentile(closeTimes, 50),
      p99Ms: percentile(closeTimes, 99),
      maxMs: Math.max(0, ...closeTimes),
    },
    readings: state?.readings ?? { acked: 0, delivered: 0, excused: 0 },
    expectedRefusals: state?.expectedRefusals ?? 0,
    gatewayRestarts: state?.gatewayRestarts ?? 0,
    faults: figures,
    memory: memory?.figures() ?? [],
    timeouts,
    runDir: monitor.breach || options.keep ? runDir : undefined,
  }
  await Promise.all(gateways.map((g) => g.stop().catch(() => undefined)))
  await observers?.close()
  await stack?.close()
  if (!report.runDir) rmSync(runDir, { recursive: true, force: true })
  return report
}

/** Each gateway publishes a reading every `everyS`, each on its own phase. */
function publishReadings(gateways: readonly Gateway[], everyS: number): NodeJS.Timeout {
  const next = gateways.map(() => Date.now() + Math.random() * everyS * 1000)
  return setInterval(() => {
    const now = Date.now()
    gateways.forEach((g, i) => {
      if (now < next[i]!) return
      next[i]! += everyS * 1000
      g.publish()
    })
  }, 250)
}

/**
 * Rounds of [faults, quiet spell] while one more fits before `deadline`
 * (at least one), then quiet spells while one fits, then random revocations
 * until the deadline. After every quiet spell a revocation and a credential
 * issued that instant must work at once. Returns the rounds run.
 */
async function runSchedule(ctx: SoakContext, options: SoakOptions, quietS: number, deadline: number): Promise<number> {
  const { monitor } = ctx
  let rounds = 0
  let probes = 0
  const quiet = async (): Promise<void> => {
    monitor.note(`quiet spell: ${quietS} s with no revocation and no fault`)
    await monitor.sleep(quietS * 1000)
    await probeRevocation(ctx, 'after the quiet spell')
    await probeNewCredential(ctx, ++probes)
  }
  let roundS = 0
  do {
    const start = Date.now()
    await faultWindow(ctx, rounds, options)
    await quiet()
    rounds += 1
    roundS = (Date.now() - start) / 1000
  } while (Date.now() + roundS * 1000 <= deadline)
  // no room for another round of faults: more of what a fleet mostly sees
  while (Date.now() + quietS * 1000 <= deadline) await quiet()
  if (Date.now() < deadline) {
    monitor.note(`random revocations until the end (${Math.round((deadline - Date.now()) / 1000)} s)`)
    await revokeAtRandom(ctx, options.revokeEveryS, (deadline - Date.now()) / 1000)
  }
  return rounds
}

/** One round of faults, with random revocations between them. */
async function faultWindow(ctx: SoakContext, round: number, options: SoakOptions): Promise<void> {
  const between = (): Promise<void> => revokeAtRandom(ctx, options.revokeEveryS, FAULT_PAUSE_S)
  ctx.monitor.note(`round ${round + 1}: faults`)
  // first, so that the new keys start signing while the faults go on
  await rotateKeys(ctx)
  await between()
  await restartExchange(ctx, round)
  await fleetBack(ctx, 'after the exchange restart')
  await between()
  await restartIdp(ctx)
  await fleetBack(ctx, 'after the IdP restart')
  await between()
  await restartBrokers(ctx)
  await between()
  if (ctx.stack.postgres) {
    await restartPostgres(ctx)
    await fleetBack(ctx, 'after the PostgreSQL restart')
    await between()
  }
  if (ctx.stack.redis) {
    await restartRedis(ctx)
    await fleetBack(ctx, 'after the Redis restart')
    await between()
  }
  await cutFeed(ctx, FEED_CUT_S)
  await fleetBack(ctx, 'after the feed cut')
  await stallFeed(ctx, STALL_LIMIT_S)
}

/**
 * Tokens signed by the rotated keys were accepted: renewed broker tokens
 * signed by the new exchange key (every gateway renews within half a token
 * lifetime of the key starting to sign), and ID tokens signed by a new IdP
 * key (refreshed a minute before they expire; after half a lifetime, some).
 */
async function checkRotations(ctx: SoakContext, options: SoakOptions): Promise<void> {
  const last = ctx.figures.rotations.at(-1)
  if (!last) return
  const now = Date.now() / 1000
  if (now < last.activatesAt) {
    ctx.monitor.note(`the rotated keys begin to sign in ${Math.round(last.activatesAt - now)} s: their use is not checked in this run`)
    return
  }
  const renewed = ctx.state.renewalsByKid.get(last.exchangeKid) ?? 0
  let idTokens = 0
  for (const g of ctx.gateways) {
    const tokens = await createTokenStore(g.settings.configDir).get({ issuer: ctx.stack.idpUrl, clientId: 'mqtt-oidc-cli' })
    const kid = tokens ? (JSON.parse(Buffer.from(tokens.idToken.split('.')[0] ?? '', 'base64url').toString()) as { kid?: string }).kid : undefined
    if (kid !== undefined && last.idpKids.includes(kid)) idTokens += 1
  }
  ctx.monitor.note(
    `${Math.round(now - last.activatesAt)} s after the rotated keys began to sign: ${renewed} renewed broker tokens signed by the new exchange key, ${idTokens} of ${ctx.gateways.length} gateways hold an ID token signed by a new IdP key`,
  )
  if (renewed === 0 && last.activatesAt + options.tokenLifetimeS / 2 + 15 < now) {
    ctx.monitor.fail(
      'key-rotation',
      `no renewed broker token was signed by the rotated exchange key ${last.exchangeKid}, ${Math.round(now - last.activatesAt)} s after it was due to sign`,
    )
  }
  if (idTokens === 0 && last.activatesAt + options.idTokenTtlS / 2 < now) {
    ctx.monitor.fail(
      'key-rotation',
      `no gateway holds an ID token signed by the rotated IdP keys (${last.idpKids.join(', ')}), ${Math.round(now - last.activatesAt)} s after they were due to sign`,
    )
  }
}
