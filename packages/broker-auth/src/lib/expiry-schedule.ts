/** setTimeout's ceiling (~24.8 days); a later first deadline re-arms on the way. */
const MAX_TIMER_MS = 2 ** 31 - 1

export interface ExpirySchedule<K> {
  /** Calls `onExpire(key)` at `expSeconds` (epoch seconds); a key is scheduled once. */
  add(key: K, expSeconds: number): void
  /** Forgets a key added with this `expSeconds` (its session ended first). */
  delete(key: K, expSeconds: number): void
  /** Keys waiting. */
  readonly size: number
  /** Stops the timer; nothing fires afterwards. */
  close(): void
}

/**
 * One timer for every token expiry instead of one per session: keys are
 * bucketed by their expiry second (tokens carry `exp` in whole seconds) and
 * a single unref'd timer is armed for the earliest bucket. With ten thousand
 * idle sessions this saves a Timeout object, and usually a timer list, per
 * client; a bucket fires at `exp * 1000` exactly as a per-session timer did.
 */
export function createExpirySchedule<K>(onExpire: (key: K) => void, now: () => number = Date.now): ExpirySchedule<K> {
  const buckets = new Map<number, Set<K>>()
  /** Bucket seconds, ascending. */
  const due: number[] = []
  let timer: NodeJS.Timeout | undefined
  /** The second the timer is armed for (undefined: not armed). */
  let armedFor: number | undefined
  let size = 0
  let closed = false

  function arm(): void {
    const first = due[0]
    if (first === armedFor) return
    if (timer) clearTimeout(timer)
    timer = undefined
    armedFor = first
    if (first === undefined || closed) return
    const delay = Math.max(0, first * 1000 - now())
    timer = setTimeout(fire, Math.min(delay, MAX_TIMER_MS))
    timer.unref()
  }

  function fire(): void {
    timer = armedFor = undefined
    const limit = now() / 1000
    while (due.length > 0 && (due[0] as number) <= limit) {
      const second = due.shift() as number
      const keys = buckets.get(second)
      buckets.delete(second)
      if (!keys) continue
      size -= keys.size
      for (const key of keys) onExpire(key)
    }
    arm()
  }

  return {
    add(key, expSeconds) {
      const second = Math.ceil(expSeconds)
      let keys = buckets.get(second)
      if (!keys) {
        buckets.set(second, (keys = new Set()))
        due.splice(insertionIndex(due, second), 0, second)
      }
      if (keys.has(key)) return
      keys.add(key)
      size++
      arm()
    },
    delete(key, expSeconds) {
      const second = Math.ceil(expSeconds)
      const keys = buckets.get(second)
      if (!keys?.delete(key)) return
      size--
      if (keys.size > 0) return
      buckets.delete(second)
      due.splice(insertionIndex(due, second), 1)
      arm()
    },
    get size() {
      return size
    },
    close() {
      closed = true
      if (timer) clearTimeout(timer)
      timer = armedFor = undefined
    },
  }
}

/** Where `value` sits (or would sit) in the ascending `list`. */
function insertionIndex(list: readonly number[], value: number): number {
  let lo = 0
  let hi = list.length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if ((list[mid] as number) < value) lo = mid + 1
    else hi = mid
  }
  return lo
}
