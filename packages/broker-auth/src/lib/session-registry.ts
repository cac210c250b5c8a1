import type { Acl, AclContext } from '@mqtt-oidc/core'

/** Why a session stopped granting anything. */
export type SessionEnd = 'revoked' | 'expired' | 'closed'

/**
 * Per-connection auth state, kept for the connection's lifetime. It is also
 * the session's ACL context (`clientid`, `username`), so each client costs
 * one small object.
 */
export interface Session extends AclContext {
  readonly clientid: string
  readonly username: string | undefined
  readonly jti: string
  /** Token expiry in epoch seconds; undefined = never. */
  readonly exp: number | undefined
  readonly acl: Acl
  ended: SessionEnd | undefined
}

export interface SessionRegistry<K extends object> {
  /** Registers the session of `key` (a connection), replacing any earlier one. */
  start(key: K, session: Session): void
  /** The session of `key`, also after it ended (its will may still be judged). */
  get(key: K): Session | undefined
  /** Marks the session ended (the first reason wins) and drops it from the jti index; returns it if it was live. */
  end(key: K, why: SessionEnd): Session | undefined
  /** The connections whose live session holds `jti`. */
  withJti(jti: string): K[]
  /** Every connection with a live session. */
  keys(): K[]
  /** Live sessions. */
  readonly size: number
}

/** Told when a session starts and when it ends (for reporting sessions); must not throw. */
export interface SessionObserver<K extends object> {
  started(key: K, session: Session): void
  ended(key: K, session: Session): void
}

/**
 * The live sessions by connection and by jti. The jti index holds the
 * connection itself while one connection uses a jti (the usual case) and a
 * Set only when several do, so an idle client costs a map entry, not a Set.
 */
export function createSessionRegistry<K extends object>(observer?: SessionObserver<K>): SessionRegistry<K> {
  // The session rides on its connection object under this registry's own symbol, rather than in a
  // WeakMap: a WeakMap entry per connection costs the garbage collector an ephemeron each, and this
  // is read on every publish, subscribe and delivery.
  const slot = Symbol('mqtt-oidc session')
  type Holder = { [slot]?: Session }
  const sessionOf = (key: K): Session | undefined => (key as Holder)[slot]
  const byJti = new Map<string, K | Set<K>>()

  function unindex(key: K, jti: string): void {
    const held = byJti.get(jti)
    if (held === key) byJti.delete(jti)
    else if (held instanceof Set) {
      held.delete(key)
      if (held.size === 1) byJti.set(jti, held.values().next().value as K)
    }
  }

  function end(key: K, why: SessionEnd): Session | undefined {
    const session = sessionOf(key)
    if (!session || session.ended) return undefined
    session.ended = why
    unindex(key, session.jti)
    size--
    observer?.ended(key, session)
    return session
  }

  let size = 0
  return {
    start(key, session) {
      end(key, 'closed')
      ;(key as Holder)[slot] = session
      const held = byJti.get(session.jti)
      if (held === undefined) byJti.set(session.jti, key)
      else if (held instanceof Set) held.add(key)
      else if (held !== key) byJti.set(session.jti, new Set([held, key]))
      size++
      observer?.started(key, session)
    },
    get: sessionOf,
    end,
    withJti(jti) {
      const held = byJti.get(jti)
      if (held === undefined) return []
      return held instanceof Set ? [...held] : [held]
    },
    keys() {
      const out: K[] = []
      for (const held of byJti.values()) {
        if (held instanceof Set) out.push(...held)
        else out.push(held)
      }
      return out
    },
    get size() {
      return size
    },
  }
}
