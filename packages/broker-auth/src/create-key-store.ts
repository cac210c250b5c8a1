import type { KeyObject } from 'node:crypto'
import { KeysUnavailable } from '@mqtt-oidc/core'
import { describeError } from './lib/describe-error.js'
import { parseJwks } from './lib/parse-jwks.js'
import type { VerificationKey } from './lib/parse-jwks.js'
import type { LogFn } from './types.js'

export interface KeyStoreOptions {
  /** The exchange's JWKS URL: the only source of keys. Required. */
  jwksUri: string | URL
  /**
   * Revalidate the JWKS this often, in ms (a timer). Default 60000: a key
   * taken out of the JWKS stops verifying within a minute. Each refresh is a
   * conditional GET (If-None-Match with the last ETag), so an unchanged JWKS
   * costs a 304 with no body.
   */
  refreshIntervalMs?: number
  /** Minimum time between two fetches caused by unknown `kid`s, in ms. Default 30000. */
  cooldownMs?: number
  /**
   * How long the last good keys keep verifying after the last successful
   * fetch while every later fetch fails (endpoint down or garbage), in ms;
   * after that every token is refused with `KeysUnavailable`. Default 3600000 (1 h).
   */
  maxStaleMs?: number
  /** Fetch timeout, in ms. Default 5000. */
  timeoutMs?: number
  /** Largest JWKS body accepted, in bytes. Default 262144. */
  maxBytes?: number
  /** fetch implementation. Default: the global `fetch`. */
  fetch?: typeof fetch
  /** Clock in epoch ms (for the staleness bound). Default `Date.now`. */
  now?: () => number
  /** Called after every fetch attempt (for metrics). */
  onFetch?: (outcome: 'ok' | 'error') => void
  log?: LogFn
}

export interface KeyStoreState {
  /** Keys held (from the last good JWKS). */
  readonly keys: number
  /** Epoch ms of the last successful fetch; null before the first. */
  readonly lastSuccessAt: number | null
  /** Epoch ms of the last fetch attempt; null before the first. */
  readonly lastAttemptAt: number | null
  /** Whether the last attempt failed. */
  readonly failing: boolean
}

export interface KeyStore {
  /**
   * Keys that may verify a JWS with this `kid` (any key when absent) and
   * `alg`. An unknown kid triggers one fetch per cooldown; rejects with
   * `KeysUnavailable` when no good JWKS is held or the held one is too stale,
   * or when the fetch just triggered by this kid failed (a new kid fails closed).
   */
  keysFor(kid: string | undefined, alg: string): Promise<readonly KeyObject[]>
  /** The hot path: the matching keys when a fresh key set holds some, else undefined (then call `keysFor`). */
  lookup(kid: string | undefined, alg: string): readonly KeyObject[] | undefined
  /** Whether `key` is in the current key set and that set is not stale (a cached verification must not outlive its key). */
  holds(key: KeyObject): boolean
  /** Fetches now (deduplicated with an in-flight fetch); resolves true on success. */
  refresh(): Promise<boolean>
  state(): KeyStoreState
  /** Stops the refresh timer. */
  close(): void
}

/**
 * The broker's own JWKS cache (node:crypto KeyObjects): refreshed on a timer
 * and on an unknown kid (at most once per cooldown, however many junk kids
 * arrive); while the endpoint is down or serves garbage the last good keys
 * keep working for `maxStaleMs`.
 *
 * @example
 * const keys = createKeyStore({ jwksUri: 'http://localhost:4001/.well-known/jwks.json' })
 * await keys.refresh()
 */
export function createKeyStore(options: KeyStoreOptions): KeyStore {
  const url = new URL(options.jwksUri)
  const doFetch = options.fetch ?? fetch
  const now = options.now ?? Date.now
  const cooldownMs = options.cooldownMs ?? 30_000
  const maxStaleMs = options.maxStaleMs ?? 3_600_000
  const timeoutMs = options.timeoutMs ?? 5_000
  const maxBytes = options.maxBytes ?? 262_144
  const log: LogFn = options.log ?? (() => {})
  let keys: readonly VerificationKey[] = []
  let held = new Set<KeyObject>()
  let lastSuccessAt: number | null = null
  let lastAttemptAt: number | null = null
  let failing = false
  let inFlight: Promise<boolean> | undefined
  /** ETag of the response the held keys came from. */
  let etag: string | undefined

  const timer = setInterval(() => void refresh(), options.refreshIntervalMs ?? 60_000)
  timer.unref()

  /** The new key set, or undefined when the exchange says the held one is still current (304). */
  async function load(): Promise<VerificationKey[] | undefined> {
    const conditional = etag !== undefined && keys.length > 0
    const headers: Record<string, string> = conditional ? { accept: 'application/json', 'if-none-match': etag! } : { accept: 'application/json' }
    const res = await doFetch(url, { headers, signal: AbortSignal.timeout(timeoutMs), redirect: 'error' })
    if (res.status === 304 && conditional) {
      await res.body?.cancel().catch(() => {})
      return undefined
    }
    if (!res.ok) {
      await res.body?.cancel().catch(() => {})
      throw new Error(`JWKS answered ${res.status}`)
    }
    const text = await res.text()
    if (text.length > maxBytes) throw new Error(`JWKS larger than ${maxBytes} bytes`)
    const parsed = parseJwks(JSON.parse(text))
    etag = res.headers.get('etag') ?? undefined
    return parsed
  }

  function refresh(): Promise<boolean> {
    inFlight ??= (async () => {
      lastAttemptAt = now()
      try {
        const next = await load()
        if (next) {
          keys = next
          held = new Set(next.map((k) => k.key))
        }
        lastSuccessAt = now()
        if (failing) log('info', 'JWKS fetch recovered', { jwks_uri: url.href, keys: keys.length })
        failing = false
        options.onFetch?.('ok')
        return true
      } catch (err) {
        failing = true
        options.onFetch?.('error')
        log(keys.length > 0 ? 'warn' : 'error', 'JWKS fetch failed; keeping the last good keys', {
          code: 'ERR_KEYS_UNAVAILABLE', jwks_uri: url.href, keys: keys.length, err: describeError(err),
        })
        return false
      } finally {
        inFlight = undefined
      }
    })()
    return inFlight
  }

  const matching = (kid: string | undefined, alg: string): KeyObject[] =>
    keys.filter((k) => (kid === undefined || k.kid === kid) && k.algs.has(alg)).map((k) => k.key)

  const fresh = (): boolean => lastSuccessAt !== null && now() - lastSuccessAt <= maxStaleMs

  function lookup(kid: string | undefined, alg: string): readonly KeyObject[] | undefined {
    if (!fresh()) return undefined
    const found = matching(kid, alg)
    return found.length > 0 ? found : undefined
  }

  function checkFresh(): void {
    if (lastSuccessAt === null) throw new KeysUnavailable('no verification keys: the JWKS has not been fetched')
    if (now() - lastSuccessAt > maxStaleMs) {
      throw new KeysUnavailable(`verification keys are stale: no good JWKS for over ${Math.round(maxStaleMs / 1000)} s`)
    }
  }

  async function keysFor(kid: string | undefined, alg: string): Promise<readonly KeyObject[]> {
    if (lastSuccessAt === null && (lastAttemptAt === null || now() - lastAttemptAt >= cooldownMs || inFlight)) await refresh()
    checkFresh()
    const found = matching(kid, alg)
    if (found.length > 0 || kid === undefined) return found
    // an unknown kid: perhaps a rotation; one fetch per cooldown, however many junk kids arrive
    if (inFlight) await inFlight
    else if (lastAttemptAt === null || now() - lastAttemptAt >= cooldownMs) {
      if (!(await refresh())) throw new KeysUnavailable(`unknown kid and the JWKS cannot be fetched`)
    } else if (failing) throw new KeysUnavailable('unknown kid and the JWKS is failing')
    checkFresh()
    return matching(kid, alg)
  }

  return {
    keysFor,
    lookup,
    holds: (key) => held.has(key) && fresh(),
    refresh,
    state: () => ({ keys: keys.length, lastSuccessAt, lastAttemptAt, failing }),
    close: () => clearInterval(timer),
  }
}
