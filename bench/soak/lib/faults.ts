import { connect } from 'mqtt'
import type { AdminClient } from '@mqtt-oidc/client'
import type { AppProcess } from './app-process.js'
import type { Backend, IdleClient } from './backend.js'
import type { Gateway } from './gateway.js'
import type { Monitor } from './monitor.js'
import { runCli } from './run-cli.js'
import type { SoakState } from './soak-state.js'
import type { Stack } from './start-stack.js'
import { BROKER_ID } from './start-stack.js'
import { percentile } from '../../lib/broker-token-fixture.js'

/** Everything a fault acts on and reports to. */
export interface SoakContext {
  readonly stack: Stack
  readonly monitor: Monitor
  readonly state: SoakState
  readonly gateways: readonly Gateway[]
  readonly backend: Backend
  readonly idles: readonly IdleClient[]
  readonly admin: AdminClient
  readonly revokeDeadlineMs: number
  readonly keyLeadS: number
  readonly figures: FaultFigures
}

export interface StormFigures {
  /** CONNECTs answered between the kill and the whole fleet being back. */
  readonly connects: number
  readonly p50Ms: number
  readonly p99Ms: number
  /** From SIGTERM to the broker(s) to every gateway connected again. */
  readonly backAfterKillMs: number
  /** From the broker(s) logging "broker listening" to every gateway connected again. */
  readonly backAfterReadyMs: number
}

export interface FaultFigures {
  readonly storms: StormFigures[]
  /** Time from a stalled revocation stream to the broker's new one, ms, per node and stall. */
  readonly streamReplacedMs: number[]
  /** Revocations made while the feed was cut: time from the feed coming back to the session closing, ms. */
  readonly revokedDuringCutMs: number[]
  readonly rotations: Array<{ exchangeKid: string; idpKids: string[]; activatesAt: number }>
  readonly restarts: Record<string, number>
}

/** How long the whole fleet may take to be connected again after a fault, ms. */
const BACK_WITHIN_MS = 90_000
/** The follower's poll period while its stream cannot be opened (create-revocation-follower's default), ms. */
const FEED_POLL_MS = 2000

/** Waits until every gateway is connected, the backend subscribed and the idle clients connected; not back in time is a breach. */
export async function fleetBack(ctx: SoakContext, what: string): Promise<number> {
  const back = (): boolean => ctx.gateways.every((g) => g.connected) && ctx.backend.subscribed && ctx.idles.every((c) => c.client.connected)
  return ctx.monitor.until(back, BACK_WITHIN_MS, 'fleet-not-back', () => {
    const missing = ctx.gateways.filter((g) => !g.connected)
    return `${what}: ${missing.length} gateways not connected after ${BACK_WITHIN_MS / 1000} s (${missing
      .slice(0, 5)
      .map((g) => `${g.index}/${g.clientId}`)
      .join(', ')}${ctx.backend.subscribed ? '' : '; backend not subscribed'})`
  })
}

function counted(ctx: SoakContext, name: string): void {
  ctx.figures.restarts[name] = (ctx.figures.restarts[name] ?? 0) + 1
}

export async function restartExchange(ctx: SoakContext, index: number): Promise<void> {
  const exchange = ctx.stack.exchanges[index % ctx.stack.exchanges.length]!
  await ctx.state.disruption('exchange', async () => {
    await exchange.stop()
    await exchange.start()
  })
  counted(ctx, exchange.name)
  ctx.monitor.note(`${exchange.name} restarted (pid ${exchange.pid})`)
}

export async function restartIdp(ctx: SoakContext): Promise<void> {
  await ctx.state.disruption('idp', async () => {
    await ctx.stack.idp.stop()
    await ctx.stack.idp.start()
  })
  counted(ctx, 'idp')
  ctx.monitor.note(`idp restarted (pid ${ctx.stack.idp.pid})`)
}

/** Every broker node at once: the whole fleet reconnects. */
export async function restartBrokers(ctx: SoakContext): Promise<void> {
  const latencies: number[] = []
  ctx.state.connackLatencies = latencies
  const killAt = Date.now()
  await ctx.state.disruption('broker', async () => {
    await Promise.all(ctx.stack.brokers.map((b) => b.stop()))
    await Promise.all(ctx.stack.brokers.map((b) => b.start()))
  })
  const readyAt = Math.max(...ctx.stack.brokers.map((b) => b.readyAt))
  await fleetBack(ctx, 'after the broker restart')
  const backAt = Date.now()
  ctx.state.connackLatencies = undefined
  const storm = {
    connects: latencies.length,
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
    backAfterKillMs: backAt - killAt,
    backAfterReadyMs: backAt - readyAt,
  }
  ctx.figures.storms.push(storm)
  for (const b of ctx.stack.brokers) counted(ctx, b.name)
  ctx.monitor.note(
    `broker restart: ${ctx.gateways.length} gateways back ${storm.backAfterKillMs} ms after SIGTERM (${storm.backAfterReadyMs} ms after ready); CONNECT p50 ${storm.p50Ms} ms, p99 ${storm.p99Ms} ms over ${storm.connects} CONNECTs`,
  )
}

export async function restartPostgres(ctx: SoakContext): Promise<void> {
  const pg = ctx.stack.postgres
  if (!pg) return
  await ctx.state.disruption('postgres', () => pg.restart(3000))
  counted(ctx, 'postgres')
  ctx.monitor.note('postgresql restarted (fast shutdown, 3 s down)')
}

/** The Redis both broker nodes share: every node must ride it out (publishes between nodes and sessions wait for it). */
export async function restartRedis(ctx: SoakContext): Promise<void> {
  const redis = ctx.stack.redis
  if (!redis) return
  await ctx.state.disruption('redis', () => redis.restart(3000))
  counted(ctx, 'redis')
  ctx.monitor.note('redis restarted (SIGTERM, 3 s down, append-only file kept)')
}

/**
 * The network between the brokers and the exchange goes away for `cutS`
 * (shorter than the feed staleness limit) with a revocation made meanwhile;
 * once it is back, that revocation must close its session within one poll
 * period plus the usual deadline.
 */
export async function cutFeed(ctx: SoakContext, cutS: number): Promise<void> {
  for (const r of ctx.stack.feedRelays) r.cut()
  const cutAt = Date.now()
  // late in the cut, so that the victim's fresh token is not renewed before the feed is back
  await ctx.monitor.sleep(Math.max(0, cutS - 4) * 1000)
  const victim = ctx.state.victim(ctx.gateways)
  const revocation = victim ? await ctx.state.revoke(victim, 'during-cut') : undefined
  await ctx.monitor.sleep(Math.max(0, cutAt + cutS * 1000 - Date.now()))
  for (const r of ctx.stack.feedRelays) r.restore()
  const restoredAt = Date.now()
  ctx.monitor.note(`revocation feed cut for ${cutS} s (connections dropped and refused), then back`)
  if (revocation) {
    const took = await ctx.state.enforced(revocation, FEED_POLL_MS + ctx.revokeDeadlineMs, restoredAt)
    if (!revocation.superseded) ctx.figures.revokedDuringCutMs.push(took)
    ctx.monitor.note(
      revocation.superseded
        ? 'the gateway revoked during the cut switched to a renewed token before the feed came back'
        : `the revocation made during the cut closed its session ${took} ms after the feed came back`,
    )
  }
}

/** Whether a broker's revocation follower has its stream open, from its log. */
function streamOpen(broker: AppProcess): boolean {
  const open = broker.logged('revocation stream open')
  return open > 0 && STREAM_LOST.every((msg) => broker.logged(msg) < open)
}
const STREAM_LOST = ['revocation stream dropped', 'revocation stream ended', 'revocation stream unreachable', 'revocation stream refused']

/**
 * Every open connection between the brokers and the exchange stops carrying
 * bytes, silently; each broker must notice with its stream idle timeout and
 * open a new stream within `limitS` (under its feed staleness limit, so that
 * no CONNECT is refused meanwhile).
 */
export async function stallFeed(ctx: SoakContext, limitS: number): Promise<void> {
  const brokers = ctx.stack.brokers
  // a follower that lost its stream polls and backs off (up to 30 s) before it opens a new one
  await ctx.monitor.until(
    () => brokers.every(streamOpen),
    60_000,
    'revocation-not-enforced',
    () => 'a broker did not reopen its revocation stream within 60 s after the feed came back',
  )
  await ctx.monitor.sleep(1000)
  const opened = brokers.map((b) => b.logged('revocation stream open'))
  const at = Date.now()
  const stalled = ctx.stack.feedRelays.map((r) => r.stallOpenConnections())
  ctx.monitor.note(`revocation feed stalled: ${stalled.join(' + ')} open connection(s) silent from now on, new ones fine`)
  await ctx.monitor.until(
    () => brokers.every((b, i) => b.logged('revocation stream open') > opened[i]!),
    limitS * 1000,
    'revocation-not-enforced',
    () => `a broker kept a silent revocation stream for over ${limitS} s (it must notice within its idle timeout, under the feed staleness limit)`,
  )
  const replaced = brokers.map((b) => b.logged('revocation stream open') - at)
  ctx.figures.streamReplacedMs.push(...replaced)
  ctx.monitor.note(`every broker replaced its silent revocation stream (after ${replaced.map((t) => `${(t / 1000).toFixed(1)} s`).join(', ')})`)
  await probeRevocation(ctx, 'after the stall')
}

/** Exchange and IdP signing keys rotated through the CLI, each published now and signing after the lead time. */
export async function rotateKeys(ctx: SoakContext): Promise<void> {
  const { stack } = ctx
  const lead = `${ctx.keyLeadS}s`
  const [exchangeOut, idpOut] = await Promise.all([
    runCli(['keys', 'rotate', '--lead', lead, '--data-dir', stack.dataDir], {}),
    runCli(['idp', 'keys', 'rotate', '--lead', lead, '--data-dir', stack.dataDir], {}),
  ])
  const exchange = JSON.parse(exchangeOut) as { kid: string; activatesAt: number }
  const idp = JSON.parse(idpOut) as { added: string[]; activatesAt: number }
  const idpKids = idp.added
  ctx.figures.rotations.push({ exchangeKid: exchange.kid, idpKids, activatesAt: exchange.activatesAt })
  ctx.monitor.note(
    `keys rotated with the CLI (exchange ${exchange.kid.slice(0, 8)}..., idp ${idpKids.map((k) => `${k.slice(0, 8)}...`).join(', ')}), signing in ${lead}`,
  )
}

/** One revocation that must close its session within the deadline. */
export async function probeRevocation(ctx: SoakContext, label: string): Promise<number | undefined> {
  const victim = ctx.state.victim(ctx.gateways)
  if (!victim) return undefined
  const r = await ctx.state.revoke(victim)
  if (!r) return undefined
  const took = await ctx.state.enforced(r, ctx.revokeDeadlineMs)
  ctx.monitor.note(
    `revocation ${label}: ${r.superseded ? `the gateway had switched to a renewed token first (${took} ms)` : `session closed ${took} ms after the request`}`,
  )
  return took
}

/** A credential issued now (a jti no broker has seen) must be accepted at once. */
export async function probeNewCredential(ctx: SoakContext, n: number): Promise<void> {
  const clientId = `soak-probe-${n}`
  const creds = await ctx.admin.issueCredentials(BROKER_ID, { clientIds: [clientId], expiration: '10m' })
  for (const url of ctx.stack.brokerUrls) {
    const rc = await new Promise<number>((resolve) => {
      const c = connect(url, { clientId, username: '', password: creds[clientId] ?? '', reconnectPeriod: 0, connectTimeout: 10_000 })
      c.on('packetreceive', (p) => {
        if (p.cmd === 'connack') resolve(p.returnCode ?? 0)
      })
      c.on('error', () => undefined)
      c.on('close', () => resolve(-1))
      c.on('connect', () => void c.endAsync())
    })
    if (rc !== 0)
      ctx.monitor.fail('credential-refused', `a credential issued just now was refused by ${url}: ${rc === -1 ? 'closed without CONNACK' : `CONNACK ${rc}`}`)
  }
}

/** Random revocations of live credentials for `forS`, one every `everyS` on average, each enforced within the deadline. */
export async function revokeAtRandom(ctx: SoakContext, everyS: number, forS: number): Promise<void> {
  const end = Date.now() + forS * 1000
  for (;;) {
    const wait = everyS * 1000 * (0.5 + Math.random())
    if (Date.now() + wait > end) return ctx.monitor.sleep(Math.max(0, end - Date.now()))
    await ctx.monitor.sleep(wait)
    await probeRevocation(ctx, 'at random')
  }
}
