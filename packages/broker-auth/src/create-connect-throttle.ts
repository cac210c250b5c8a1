export interface ConnectThrottleOptions {
  /** Failed CONNECTs an address may have within `windowMs` before it is held off; 0 turns the throttle off. Default 30. */
  maxFailures?: number
  /** The window in which failures count, in ms. Default 60000. */
  windowMs?: number
  /** First hold-off of an address that spent its budget, in ms; doubles each time it does so again. Default 10000. */
  holdMs?: number
  /** Longest hold-off, in ms; an address quiet for this long after a hold-off starts over. Default 300000. */
  maxHoldMs?: number
  /** Most addresses remembered (the least recently failing are forgotten first). Default 100000. */
  maxAddresses?: number
  /** Clock in epoch ms. Default `Date.now`. */
  now?: () => number
}

export interface ConnectThrottle {
  /** Milliseconds left of the address's hold-off; 0 when new connections from it are welcome. */
  heldFor(address: string): number
  /**
   * Counts a failed CONNECT from the address (a refused token, a protocol violation, a CONNECT
   * too large or too late). Returns the hold-off it started, in ms, or 0 when the budget holds.
   */
  fail(address: string): number
  /** Addresses remembered. */
  readonly size: number
}

interface Entry {
  failures: number
  windowStart: number
  heldUntil: number
  /** Hold-offs so far; each doubles the next. */
  strikes: number
}

/**
 * A per-address budget of failed CONNECTs. An address that spends it is
 * held off: its new connections are refused before anything is read, for
 * `holdMs`, doubling each time it comes back and fails again, up to
 * `maxHoldMs`. Other addresses are not touched, and connections already
 * authenticated stay. Clients behind one NAT or proxy share an address:
 * raise the budget there, or turn it off.
 *
 * @example
 * const throttle = createConnectThrottle({ maxFailures: 30 })
 * if (throttle.heldFor(socket.remoteAddress) > 0) socket.destroy()
 */
export function createConnectThrottle(options: ConnectThrottleOptions = {}): ConnectThrottle {
  const maxFailures = options.maxFailures ?? 30
  const windowMs = options.windowMs ?? 60_000
  const holdMs = options.holdMs ?? 10_000
  const maxHoldMs = options.maxHoldMs ?? 300_000
  const maxAddresses = options.maxAddresses ?? 100_000
  const now = options.now ?? Date.now
  const entries = new Map<string, Entry>()

  return {
    heldFor(address) {
      if (maxFailures <= 0) return 0
      const entry = entries.get(address)
      return entry ? Math.max(0, entry.heldUntil - now()) : 0
    },
    fail(address) {
      if (maxFailures <= 0) return 0
      const t = now()
      let entry = entries.get(address)
      if (entry)
        entries.delete(address) // re-inserted below: the map stays ordered by last failure
      else entry = { failures: 0, windowStart: t, heldUntil: 0, strikes: 0 }
      entries.set(address, entry)
      if (entries.size > maxAddresses) entries.delete(entries.keys().next().value as string)
      if (entry.strikes > 0 && t > entry.heldUntil + maxHoldMs) entry.strikes = 0
      if (t - entry.windowStart >= windowMs) {
        entry.failures = 0
        entry.windowStart = t
      }
      entry.failures++
      if (entry.failures <= maxFailures) return 0
      const hold = Math.min(maxHoldMs, holdMs * 2 ** entry.strikes)
      entry.strikes++
      entry.failures = 0
      entry.windowStart = t + hold
      entry.heldUntil = t + hold
      return hold
    },
    get size() {
      return entries.size
    },
  }
}
