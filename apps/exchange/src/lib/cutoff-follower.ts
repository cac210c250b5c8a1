import type { Logger } from 'pino'
import type { Store } from '@mqtt-oidc/core'

export interface CutoffFollowerOptions {
  /** Where account cut-offs are set (our IdP's store). */
  readonly identityStore: Store
  /** Where this exchange records credentials and revocations. */
  readonly store: Store
  readonly log: Logger
  /** Between looks at the identity store, ms. */
  readonly pollMs: number
  /** Current time, epoch seconds. */
  readonly now: () => number
}

export interface CutoffFollower {
  /** Revokes what every cut-off set so far still leaves live, then keeps following. */
  start(): Promise<void>
  /** Stops looking; resolves once a pass in progress has finished (the stores may then close). */
  stop(): Promise<void>
}

/**
 * Disabling an account sets a cut-off in the identity store (the IdP's
 * store, shared or on one data dir); this makes it reach the brokers: the
 * account's exchanged credentials issued before the cut-off that have not
 * expired are revoked, and the revocation feed closes their live sessions.
 * Every exchange instance follows on its own (a revocation already made is
 * a no-op), and a start catches up with every cut-off set while it was down.
 * A failed pass is tried again on the next look; the cursor only moves past
 * cut-offs whose credentials are all revoked.
 */
export function createCutoffFollower(options: CutoffFollowerOptions): CutoffFollower {
  const { identityStore, store, log } = options
  let cursor = 0
  let timer: NodeJS.Timeout | undefined
  let running: Promise<void> | undefined

  const pass = async (): Promise<void> => {
    for (;;) {
      const cutoffs = await identityStore.cutoffs.since(cursor)
      if (cutoffs.length === 0) return
      for (const cutoff of cutoffs) {
        const now = options.now()
        const live = await store.credentials.liveIssuedTo(cutoff.accountId, cutoff.notBefore, now)
        const byBroker = new Map<string, string[]>()
        for (const c of live) byBroker.set(c.broker, [...(byBroker.get(c.broker) ?? []), c.jti])
        for (const [broker, jtis] of byBroker) {
          const { changed } = await store.revocations.revoke(broker, jtis, now)
          if (changed.length > 0)
            log.info({ code: 'ERR_TOKEN_REVOKED', sub: cutoff.accountId, broker, jtis: changed }, 'credentials of a disabled account revoked')
        }
        cursor = cutoff.revision
      }
    }
  }
  const look = (): Promise<void> => {
    running ??= pass()
      .catch((err: unknown) => log.error({ err }, 'following account cut-offs failed; trying again'))
      .finally(() => {
        running = undefined
      })
    return running
  }

  return {
    async start() {
      await look()
      timer = setInterval(() => void look(), options.pollMs)
      timer.unref()
    },
    async stop() {
      clearInterval(timer)
      timer = undefined
      await running
    },
  }
}
