/** What one readiness check found: `ok`, and fields that say why (numbers, short strings; never a secret). */
export interface ReadinessResult {
  readonly ok: boolean
  readonly [field: string]: unknown
}

/** One thing a part needs before it should get traffic (its store answers, its keys are loaded, ...). */
export type ReadinessCheck = () => ReadinessResult | Promise<ReadinessResult>

/** The answer of `GET /readyz`: `ready` only when every check is ok. */
export interface Readiness {
  readonly status: 'ready' | 'not ready'
  readonly checks: Readonly<Record<string, ReadinessResult>>
}

/** Longest a check may take before it counts as failed, ms. */
export const READINESS_TIMEOUT_MS = 2000

/**
 * Runs every check at once; a check that throws or takes longer than
 * READINESS_TIMEOUT_MS fails with the reason (`error`), never the whole answer.
 *
 * @example await checkReadiness({ store: async () => { await store.ping(); return { ok: true } } })
 */
export async function checkReadiness(checks: Readonly<Record<string, ReadinessCheck>>, timeoutMs = READINESS_TIMEOUT_MS): Promise<Readiness> {
  const entries = await Promise.all(
    Object.entries(checks).map(async ([name, check]): Promise<[string, ReadinessResult]> => {
      let timer: NodeJS.Timeout | undefined
      const timeout = new Promise<ReadinessResult>((resolve) => {
        timer = setTimeout(() => resolve({ ok: false, error: `no answer within ${timeoutMs} ms` }), timeoutMs)
      })
      try {
        return [name, await Promise.race([Promise.resolve().then(check), timeout])]
      } catch (err) {
        return [name, { ok: false, error: err instanceof Error ? err.message : String(err) }]
      } finally {
        clearTimeout(timer)
      }
    }),
  )
  const results = Object.fromEntries(entries)
  return { status: entries.every(([, r]) => r.ok) ? 'ready' : 'not ready', checks: results }
}
