import { BrokerTokenRevoked, LoginRequired, TokenExchangeRefused } from '@mqtt-oidc/client'
import type { AdminClient, BrokerRefusal, BrokerToken } from '@mqtt-oidc/client'
import type { Backend } from './backend.js'
import type { Gateway, GatewayEvents } from './gateway.js'
import type { Monitor } from './monitor.js'
import { BROKER_ID } from './start-stack.js'

/** A fault that makes some renewals fail for a while (the exchange, IdP or PostgreSQL is down). */
export interface Disruption {
  readonly kind: string
  readonly from: number
  until: number | undefined
}

/** One revocation of a live gateway credential, and when its session closed. */
export interface Revocation {
  readonly jti: string
  readonly gateway: Gateway
  readonly requestedAt: number
  /** `live`: the feed is up, the session must close within the deadline; `during-cut`: made while the feed was cut. */
  readonly kind: 'live' | 'during-cut'
  closedAt: number | undefined
  /** The gateway renewed and dropped that connection itself before the broker acted: nothing left to enforce or time. */
  superseded: boolean
}

/** After a disruption ends, renewals that were already failing may still report for this long, ms. */
const DISRUPTION_GRACE_MS = 3000
/** A reading acknowledged this long ago must have reached the backend, ms. */
const DELIVERY_WINDOW_MS = 15_000
/** How far around a backend absence a reading counts as sent while it was away, ms. */
const AWAY_MARGIN_MS = 1000

/**
 * The soak's view of the fleet, fed by every gateway's events: it holds the
 * invariants that are checked as things happen (no valid credential refused,
 * renewals fail only during a fault that explains it, revoked sessions close)
 * and the counts behind the figures.
 */
export class SoakState implements GatewayEvents {
  readonly revoked = new Set<string>()
  readonly revocations: Revocation[] = []
  readonly disruptions: Disruption[] = []
  /** CONNACK latencies collected while `collectingConnacks` is on (the broker-restart storm). */
  connackLatencies: number[] | undefined
  renewals = 0
  /** Renewed broker tokens by signing key (`kid`). */
  readonly renewalsByKid = new Map<string, number>()
  expectedRefusals = 0
  gatewayRestarts = 0
  readings = { acked: 0, delivered: 0, excused: 0 }
  backend: Backend | undefined
  /** Readings sent while the backend was away may be excused (an in-memory broker forgets what it held for it). */
  excuseBackendAway = false
  readonly #byJti = new Map<string, Revocation>()

  constructor(
    private readonly monitor: Monitor,
    private readonly admin: AdminClient,
  ) {}

  connack(g: Gateway, rc: number, jti: string | undefined, latencyMs: number): void {
    this.connackLatencies?.push(latencyMs)
    if (rc === 0) return
    if (jti !== undefined && this.revoked.has(jti)) {
      this.expectedRefusals += 1
      return
    }
    const exp = g.token?.expiresAt
    this.monitor.fail(
      'credential-refused',
      `gateway ${g.index} (${g.clientId}) got CONNACK ${rc} for a token never revoked (jti ${jti ?? '?'}${exp ? `, ${Math.round(exp - Date.now() / 1000)} s before its exp` : ''})`,
    )
  }

  closed(_g: Gateway, jti: string | undefined, renewal: boolean): void {
    const r = jti === undefined ? undefined : this.#byJti.get(jti)
    if (!r || r.closedAt !== undefined) return
    r.closedAt = Date.now()
    r.superseded = renewal
  }

  renewed(_g: Gateway, token: BrokerToken): void {
    this.renewals += 1
    const kid = headerKid(token.token)
    this.renewalsByKid.set(kid, (this.renewalsByKid.get(kid) ?? 0) + 1)
  }

  renewError(g: Gateway, err: unknown): void {
    const explained = this.disrupted()
    const refusal = err instanceof LoginRequired || (err instanceof TokenExchangeRefused && err.status < 500)
    if (refusal || !explained) {
      this.monitor.fail(
        'renewal-failed',
        `gateway ${g.index} (${g.clientId}): renewal failed ${explained ? 'with a refusal' : 'while nothing was down'}: ${describe(err)}`,
      )
    }
  }

  refused(g: Gateway, err: BrokerRefusal, jti: string | undefined): void {
    if (jti === undefined || !this.revoked.has(jti)) {
      this.monitor.fail('credential-refused', `gateway ${g.index} (${g.clientId}) ended by the library: ${err.code} (jti ${jti ?? '?'}, never revoked)`)
      return
    }
    if (!(err instanceof BrokerTokenRevoked)) this.monitor.note(`gateway ${g.index}: revoked token reported as ${err.code}, not ERR_BROKER_TOKEN_REVOKED`)
    g.dropClient()
    this.gatewayRestarts += 1
    void this.restart(g)
  }

  startFailed(g: Gateway, err: unknown): void {
    if (!this.disrupted()) this.monitor.note(`gateway ${g.index}: connect() failed (${describe(err)}); retrying`)
  }

  /** A supervisor's restart: the gateway process starts again with its stored login, backing off while it fails. */
  private async restart(g: Gateway): Promise<void> {
    const deadline = Date.now() + 60_000
    for (let attempt = 0; !this.monitor.signal.aborted; attempt++) {
      await this.monitor.sleep(500 + Math.random() * 500 * 2 ** Math.min(attempt, 5)).catch(() => undefined)
      if (this.monitor.signal.aborted) return
      try {
        await g.start()
        return
      } catch (err) {
        if (Date.now() > deadline) {
          this.monitor.fail('fleet-not-back', `gateway ${g.index} could not start again after its revocation for 60 s: ${describe(err)}`)
          return
        }
      }
    }
  }

  /** Whether a disruption is under way (or just ended). */
  disrupted(at = Date.now()): boolean {
    return this.disruptions.some((d) => at >= d.from && at <= (d.until ?? Infinity) + DISRUPTION_GRACE_MS)
  }

  /** Runs `work` as a disruption of `kind`. */
  async disruption<T>(kind: string, work: () => Promise<T>): Promise<T> {
    const d: Disruption = { kind, from: Date.now(), until: undefined }
    this.disruptions.push(d)
    try {
      return await work()
    } finally {
      d.until = Date.now()
    }
  }

  /**
   * Revokes the credential `g` is connected with through the admin API and
   * returns the record; `enforced` waits for its session to close.
   */
  async revoke(g: Gateway, kind: Revocation['kind'] = 'live'): Promise<Revocation | undefined> {
    const jti = g.connectedJti
    if (jti === undefined) return undefined
    const r: Revocation = { jti, gateway: g, requestedAt: Date.now(), kind, closedAt: undefined, superseded: false }
    this.revoked.add(jti)
    this.#byJti.set(jti, r)
    this.revocations.push(r)
    await this.admin.revoke(BROKER_ID, [jti])
    return r
  }

  /** Fails the run unless `r`'s session closed within `deadlineMs` of `from` (default: the request). */
  async enforced(r: Revocation, deadlineMs: number, from = r.requestedAt): Promise<number> {
    const wait = from + deadlineMs + 500 - Date.now()
    await this.monitor.until(
      () => r.closedAt !== undefined,
      Math.max(wait, 0),
      'revocation-not-enforced',
      () =>
        `gateway ${r.gateway.index} (${r.gateway.clientId}) still connected with revoked jti ${r.jti} ${((Date.now() - from) / 1000).toFixed(1)} s after ${from === r.requestedAt ? 'the revocation' : 'the feed came back'}`,
    )
    const took = r.closedAt! - from
    if (took > deadlineMs && !r.superseded)
      this.monitor.fail('revocation-not-enforced', `gateway ${r.gateway.index}: revoked jti ${r.jti} closed after ${took} ms (limit ${deadlineMs} ms)`)
    return took
  }

  /**
   * A connected gateway at random, preferring one whose connection is under
   * 10 s old: its token was just renewed, so it will not switch to another
   * before the broker acts on the revocation.
   */
  victim(gateways: readonly Gateway[]): Gateway | undefined {
    const live = gateways.filter((g) => g.connected && g.connectedJti !== undefined && !this.revoked.has(g.connectedJti))
    const fresh = live.filter((g) => Date.now() - g.connectedSince < 10_000)
    const pool = fresh.length > 0 ? fresh : live
    return pool[Math.floor(Math.random() * pool.length)]
  }

  /**
   * Every reading acknowledged more than `DELIVERY_WINDOW_MS` ago (all of
   * them with `all`) must have reached the backend; a reading sent while the
   * backend was away is excused only when `excuseBackendAway` is set.
   */
  checkDelivery(gateways: readonly Gateway[], all = false): void {
    const backend = this.backend
    if (!backend) return
    const before = all ? Infinity : Date.now() - DELIVERY_WINDOW_MS
    for (const g of gateways) {
      const got = backend.received.get(g.index)
      for (const [seq, a] of g.acked) {
        if (a.ackAt > before) continue
        g.acked.delete(seq)
        this.readings.acked += 1
        if (got?.has(seq)) this.readings.delivered += 1
        else if (this.excuseBackendAway && backend.wasAway(a.sentAt, a.ackAt, AWAY_MARGIN_MS)) this.readings.excused += 1
        else {
          const ago = ((Date.now() - a.ackAt) / 1000).toFixed(1)
          this.monitor.fail(
            'reading-lost',
            `gateway ${g.index} (${g.clientId}) reading ${seq}, acknowledged by the broker ${ago} s ago, never reached the backend`,
          )
          return
        }
      }
    }
  }
}

function headerKid(jwt: string): string {
  try {
    return String((JSON.parse(Buffer.from(jwt.split('.')[0] ?? '', 'base64url').toString()) as { kid?: unknown }).kid)
  } catch {
    return '?'
  }
}

export function describe(err: unknown): string {
  if (!(err instanceof Error)) return String(err)
  const code = (err as { code?: unknown }).code
  const cause = err.cause instanceof Error ? ` (cause: ${err.cause.message})` : ''
  return `${typeof code === 'string' ? `${code}: ` : ''}${err.message}${cause}`
}
