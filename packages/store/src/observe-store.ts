import { isMqttOidcError } from '@mqtt-oidc/core'
import type { Store } from '@mqtt-oidc/core'

/** One finished store call, as `observeStore` reports it. */
export interface StoreCall {
  /** `<area>.<method>`, e.g. `brokers.list` or `ping`: a small fixed set, fit for a metric label. */
  readonly operation: string
  /** Wall time until the call settled, seconds. */
  readonly seconds: number
  /**
   * `ok`; `refused` when the store answered with one of our typed errors
   * (ERR_NOT_FOUND, ERR_CONFLICT, ERR_CLIENT_ID_TAKEN: a request's fault);
   * `error` for anything else (the database away, a bug).
   */
  readonly outcome: 'ok' | 'refused' | 'error'
}

/** Histogram buckets for store latency, seconds: a local SQLite call takes ~0.1 ms, a PostgreSQL round trip ~1 ms, a slow disk or network far more. */
export const STORE_SECONDS_BUCKETS: readonly number[] = Object.freeze([0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5])

const AREAS = ['oidc', 'accounts', 'brokers', 'credentials', 'revocations', 'keys', 'clientIds', 'cutoffs', 'oauthClients', 'sessions'] as const

/**
 * The same store, reporting every call that returns a promise to `observe`
 * when it settles (store latency metrics). Calls that return at once
 * (`revocations.watch`, `sessions.watch`) and `withLock`, whose time is its holder's, are
 * passed through untimed; so is `close`.
 *
 * @example const store = observeStore(await openStore(...), (call) => histogram.observe({ operation: call.operation }, call.seconds))
 */
export function observeStore(store: Store, observe: (call: StoreCall) => void): Store {
  const timed =
    <A extends unknown[], R>(operation: string, fn: (...args: A) => R) =>
    (...args: A): R => {
      const start = performance.now()
      const result = fn(...args)
      if (!(result instanceof Promise)) return result
      const done = (outcome: StoreCall['outcome']): void => observe({ operation, seconds: (performance.now() - start) / 1000, outcome })
      return result.then(
        (value: unknown) => {
          done('ok')
          return value
        },
        (err: unknown) => {
          done(isMqttOidcError(err) ? 'refused' : 'error')
          throw err
        },
      ) as R
    }
  const area = <T extends object>(name: string, target: T): T => {
    const wrapped = new Map<PropertyKey, unknown>()
    return new Proxy(target, {
      get(t, prop, receiver) {
        const value: unknown = Reflect.get(t, prop, receiver)
        if (typeof value !== 'function' || typeof prop !== 'string') return value
        if (!wrapped.has(prop))
          wrapped.set(
            prop,
            timed(`${name}.${prop}`, (...args: unknown[]) => (value as (...a: unknown[]) => unknown).apply(t, args)),
          )
        return wrapped.get(prop)
      },
    })
  }
  const areas = Object.fromEntries(AREAS.map((name) => [name, area(name, store[name])])) as Pick<Store, (typeof AREAS)[number]>
  return {
    ...areas,
    withLock: (name, fn) => store.withLock(name, fn),
    ping: timed('ping', () => store.ping()),
    close: () => store.close(),
  }
}
