import { describeError } from './describe-error.js'
import type { FeedEvent, FeedSnapshot } from './feed-messages.js'
import { createRevocationSet } from './revocation-set.js'
import type { LogFn } from '../types.js'

export type RevocationEventName = 'revoked' | 'unrevoked'

export interface RevocationState {
  readonly revision: number
  readonly size: number
  has(jti: string): boolean
  /** Replaces everything with a snapshot; listeners hear each jti whose state changed. */
  load(snapshot: FeedSnapshot): void
  /** Applies one event unless its revision is not newer than ours. */
  apply(event: FeedEvent): void
  on(event: RevocationEventName, listener: (jti: string) => void): () => void
  /** Drops revocations of tokens that expired before `nowSeconds`. */
  prune(nowSeconds: number): number
}

/** The revoked jtis a follower holds, its revision cursor, and the listeners told of each change. */
export function createRevocationState(log: LogFn, fields: Record<string, unknown>): RevocationState {
  const set = createRevocationSet()
  const listeners = { revoked: new Set<(jti: string) => void>(), unrevoked: new Set<(jti: string) => void>() }
  let revision = 0

  function emit(event: RevocationEventName, jti: string): void {
    for (const listener of listeners[event]) {
      try {
        listener(jti)
      } catch (err) {
        log('error', 'revocation listener failed', { ...fields, jti, err: describeError(err) })
      }
    }
  }

  return {
    get revision() {
      return revision
    },
    get size() {
      return set.size
    },
    has: (jti) => set.has(jti),
    load(snapshot) {
      const { added, removed } = set.replace(snapshot.revoked)
      revision = snapshot.revision
      log('info', 'revocation snapshot loaded', { ...fields, revision, revoked: snapshot.revoked.length })
      for (const jti of added) emit('revoked', jti)
      for (const jti of removed) emit('unrevoked', jti)
    },
    apply(e) {
      if (e.revision <= revision) return
      revision = e.revision
      if (e.action === 'revoke' ? set.revoke(e.jti, e.expiresAt) : set.unrevoke(e.jti)) {
        log('info', e.action === 'revoke' ? 'jti revoked' : 'jti unrevoked', { ...fields, jti: e.jti, revision })
        emit(e.action === 'revoke' ? 'revoked' : 'unrevoked', e.jti)
      }
    },
    on(event, listener) {
      listeners[event].add(listener)
      return () => listeners[event].delete(listener)
    },
    prune: (nowSeconds) => set.prune(nowSeconds),
  }
}
