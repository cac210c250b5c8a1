import type { KeyObject } from 'node:crypto'
import { KeysUnavailable, describeError } from '@mqtt-oidc/core/errors'
import { DEFAULT_JWKS_COOLDOWN_MS, DEFAULT_JWKS_MAX_STALE_MS, DEFAULT_JWKS_REFRESH_MS } from './defaults.js'
import { fetchJwks } from './lib/fetch-jwks.js'
import { matchingKeys } from './lib/parse-jwks.js'
import type { VerificationKey } from './lib/parse-jwks.js'
import type { KeySource, LogFn } from './types.js'

export interface RemoteJwksOptions {
  /** The JWKS URL, or a function that finds it (e.g. OIDC discovery), asked until it answers once. The only source of keys. Required. */
  readonly jwksUri: string | URL | (() => Promise<string | URL>)
  /** Whose keys these are, for messages: "the exchange", "the identity provider". Default "the issuer". */
  readonly label?: string | undefined
  /** Refetch on a timer this often while healthy, ms; each wait is drawn from 80-100 % of it. Default 300000 (5 min). */
  readonly refreshIntervalMs?: number | undefined
  /** Least time between two fetches caused by tokens (an unknown `kid`, no keys yet), ms. Default 30000. */
  readonly cooldownMs?: number | undefined
  /** First retry after a failed fetch, ms; doubles with each failure in a row up to `maxBackoffMs`, each wait drawn from 50-100 % of it. Default 1000. */
  readonly backoffMs?: number | undefined
  /** Longest wait between retries of a failing endpoint, ms. Default 30000. */
  readonly maxBackoffMs?: number | undefined
  /** How long the last good keys keep verifying while every fetch fails, ms, counted from the last good fetch; then `KeysUnavailable`. Default 3600000 (1 h). */
  readonly maxStaleMs?: number | undefined
  /** Fetch timeout (headers and body), ms. Default 5000. */
  readonly timeoutMs?: number | undefined
  /** Largest JWKS body accepted, bytes. Default 262144. */
  readonly maxBytes?: number | undefined
  /** fetch implementation. Default: the global `fetch`. */
  readonly fetch?: typeof fetch | undefined
  /** Clock, epoch ms. Default `Date.now`. */
  readonly now?: (() => number) | undefined
  /** Source of jitter in [0, 1). Default `Math.random`. */
  readonly random?: (() => number) | undefined
  /** Called after every fetch attempt (metrics). */
  readonly onFetch?: ((outcome: 'ok' | 'error') => void) | undefined
  /** Log callback: failures (warn with keys held, error without), recovery (info). */
  readonly log?: LogFn | undefined
}

export interface RemoteJwksState {
  /** Keys held (from the last good JWKS). */
  readonly keys: number
  /** Epoch ms of the last good fetch; null before the first. */
  readonly lastSuccessAt: number | null
  /** Epoch ms of the last fetch attempt; null before the first. */
  readonly lastAttemptAt: number | null
  /** Whether the last attempt failed. */
  readonly failing: boolean
  /** Failed attempts in a row. */
  readonly failures: number
  /** Epoch ms when the timer fetches next (refresh, or a retry after a failure); null once closed. */
  readonly nextFetchAt: number | null
}

export interface RemoteJwks extends KeySource {
  /** Whether `key` is in the current key set and that set is not stale (a cached verification must not outlive its key). */
  holds(key: KeyObject): boolean
  /** Fetches now (shared with a fetch in flight); resolves true on success, never rejects. */
  refresh(): Promise<boolean>
  state(): RemoteJwksState
  /** Stops the timer. */
  close(): void
}

/**
 * A remote JWKS cache of node:crypto KeyObjects, imported once per fetch:
 *
 * - refreshed on a jittered timer (`refreshIntervalMs`), with `If-None-Match`;
 * - a token naming an unknown `kid` (or finding no key for its alg)
 *   refetches, at most once per `cooldownMs` however many such tokens come,
 *   and concurrent misses share one fetch;
 * - a failed fetch (error status, garbage, no usable key, timeout) keeps the
 *   last good keys, for `maxStaleMs` at most (stale-if-error), and is
 *   retried after an exponential back-off with jitter, so a fleet of
 *   verifiers does not retry in lockstep;
 * - a new `kid` while the endpoint fails is refused (fail closed).
 *
 * @example
 * const jwks = createRemoteJwks({ jwksUri: 'https://exchange.example/.well-known/jwks.json', label: 'the exchange' })
 * await jwks.refresh()
 */
export function createRemoteJwks(options: RemoteJwksOptions): RemoteJwks {
  const label = options.label ?? 'the issuer'
  const doFetch = options.fetch ?? fetch
  const now = options.now ?? Date.now
  const random = options.random ?? Math.random
  const refreshMs = options.refreshIntervalMs ?? DEFAULT_JWKS_REFRESH_MS
  const cooldownMs = options.cooldownMs ?? DEFAULT_JWKS_COOLDOWN_MS
  const backoffMs = options.backoffMs ?? 1000
  const maxBackoffMs = options.maxBackoffMs ?? 30_000
  const maxStaleMs = options.maxStaleMs ?? DEFAULT_JWKS_MAX_STALE_MS
  const timeoutMs = options.timeoutMs ?? 5000
  const maxBytes = options.maxBytes ?? 262_144
  const log: LogFn = options.log ?? (() => {})
  const locator = typeof options.jwksUri === 'function' ? options.jwksUri : undefined
  let url = locator ? undefined : new URL(options.jwksUri)
  let keys: readonly VerificationKey[] = []
  let held = new Set<KeyObject>()
  /** Keys per alg and kid, so the hot path builds no array (cleared whenever the keys change). */
  const matches = new Map<string, Map<string | undefined, readonly KeyObject[]>>()
  let etag: string | undefined
  let lastSuccessAt: number | null = null
  let lastAttemptAt: number | null = null
  let failures = 0
  let inFlight: Promise<boolean> | undefined
  let timer: NodeJS.Timeout | undefined
  let nextFetchAt: number | null = null
  let closed = false

  function schedule(delayMs: number): void {
    if (closed) return
    clearTimeout(timer)
    nextFetchAt = now() + delayMs
    timer = setTimeout(() => void refresh(), delayMs)
    timer.unref()
  }
  const healthyWait = (): number => refreshMs * (0.8 + 0.2 * random())
  const backoffWait = (n: number): number => {
    const ceiling = Math.min(maxBackoffMs, backoffMs * 2 ** (n - 1))
    return ceiling / 2 + (ceiling / 2) * random()
  }
  schedule(healthyWait())

  function refresh(): Promise<boolean> {
    inFlight ??= (async () => {
      lastAttemptAt = now()
      try {
        url ??= new URL(await locator!())
        const next = await fetchJwks(url, { fetch: doFetch, timeoutMs, maxBytes, etag: keys.length > 0 ? etag : undefined })
        if (next !== 'unchanged') {
          keys = next.keys
          etag = next.etag
          held = new Set(keys.map((k) => k.key))
          matches.clear()
        }
        lastSuccessAt = now()
        if (failures > 0) log('info', 'JWKS fetch recovered', { jwks_uri: url?.href, keys: keys.length })
        failures = 0
        options.onFetch?.('ok')
        schedule(healthyWait())
        return true
      } catch (err) {
        failures++
        const wait = backoffWait(failures)
        options.onFetch?.('error')
        log(keys.length > 0 ? 'warn' : 'error', keys.length > 0 ? 'JWKS fetch failed; keeping the last good keys' : 'JWKS fetch failed; no keys yet', {
          code: 'ERR_KEYS_UNAVAILABLE',
          jwks_uri: url?.href,
          keys: keys.length,
          failures,
          retry_in_ms: Math.round(wait),
          err: describeError(err),
        })
        schedule(wait)
        return false
      } finally {
        inFlight = undefined
      }
    })()
    return inFlight
  }

  const fresh = (): boolean => lastSuccessAt !== null && now() - lastSuccessAt <= maxStaleMs
  const mayFetch = (): boolean => lastAttemptAt === null || now() - lastAttemptAt >= cooldownMs
  const unavailable = (): KeysUnavailable =>
    new KeysUnavailable(
      lastSuccessAt === null || fresh()
        ? `${label}'s keys are unavailable`
        : `${label}'s keys are unavailable: no good JWKS for over ${Math.round(maxStaleMs / 1000)} s`,
    )

  function lookup(kid: string | undefined, alg: string): readonly KeyObject[] | undefined {
    if (!fresh()) return undefined
    let byKid = matches.get(alg)
    if (!byKid) matches.set(alg, (byKid = new Map<string | undefined, readonly KeyObject[]>()))
    let match = byKid.get(kid)
    if (!match) {
      match = matchingKeys(keys, kid, alg)
      if (byKid.size >= 1024) byKid.clear()
      byKid.set(kid, match)
    }
    return match.length > 0 ? match : undefined
  }

  async function keysFor(kid: string | undefined, alg: string): Promise<readonly KeyObject[]> {
    if (!fresh()) {
      if (inFlight) await inFlight
      else if (mayFetch()) await refresh()
      if (!fresh()) throw unavailable()
    }
    const found = matchingKeys(keys, kid, alg)
    if (found.length > 0) return found
    // a miss: perhaps a rotation. One fetch per cooldown however many junk kids arrive.
    if (inFlight) await inFlight
    else if (mayFetch()) {
      if (!(await refresh())) throw unavailable()
    } else if (failures > 0) throw unavailable()
    if (!fresh()) throw unavailable()
    return matchingKeys(keys, kid, alg)
  }

  return {
    label,
    lookup,
    keysFor,
    holds: (key) => held.has(key) && fresh(),
    refresh,
    state: () => ({ keys: keys.length, lastSuccessAt, lastAttemptAt, failing: failures > 0, failures, nextFetchAt }),
    close() {
      closed = true
      nextFetchAt = null
      clearTimeout(timer)
    },
  }
}
