import { createHash, timingSafeEqual } from 'node:crypto'
import type { Store } from '@mqtt-oidc/core'
import { randomToken } from './idp-client.js'

/** Store models (the store's generic record table, shared by every exchange instance). */
const SESSION_MODEL = 'MqttOidcConsoleSession'
const LOGIN_MODEL = 'MqttOidcConsoleLogin'

/** A sign-in in progress lasts this long, seconds. */
const LOGIN_SECONDS = 600

/** What the server keeps for a signed-in person; the browser holds only a random id whose hash keys it. */
export interface ConsoleSession {
  readonly sub: string
  readonly username: string
  /** Access token for the exchange's admin API (scope mqtt-oidc:admin), and when it expires (epoch seconds). */
  readonly accessToken: string
  readonly accessTokenExpiresAt: number
  readonly refreshToken: string | undefined
  /** For RP-initiated logout at the IdP. */
  readonly idToken: string
  /** The synchronizer token every state-changing request carries. */
  readonly csrf: string
  readonly createdAt: number
  readonly lastSeenAt: number
  /** A message for the next page shown (after a redirect). */
  readonly notice?: string | undefined
}

/** A sign-in in progress: what the callback checks and needs. */
export interface PendingLogin {
  readonly state: string
  readonly nonce: string
  readonly codeVerifier: string
  /** Where to go after signing in (a /console path). */
  readonly returnTo: string
}

export interface ConsoleSessions {
  /** Starts a session; returns the id the cookie carries. */
  create(session: Omit<ConsoleSession, 'csrf' | 'createdAt' | 'lastSeenAt'>, now: number): Promise<{ id: string; session: ConsoleSession }>
  /** The live session of cookie value `id` (not past its lifetime or idle time). */
  get(id: string, now: number): Promise<ConsoleSession | undefined>
  /** Saves a changed session (keeps its lifetime). */
  save(id: string, session: ConsoleSession, now: number): Promise<void>
  destroy(id: string): Promise<void>
  /** Remembers a sign-in in progress under the browser's login cookie value. */
  startLogin(login: PendingLogin): Promise<string>
  /** Takes (once) the sign-in in progress of login cookie value `id`. */
  takeLogin(id: string): Promise<PendingLogin | undefined>
  /** Runs `fn` with the session's refresh lock held (every exchange instance): one refresh at a time. */
  withRefreshLock<T>(id: string, fn: () => Promise<T>): Promise<T>
}

// Only a hash of the cookie value is stored: a read of the store yields no usable cookie.
const key = (id: string): string => createHash('sha256').update(id).digest('hex')

/**
 * Server-side console sessions and sign-ins in progress, in the store, so
 * any exchange instance behind a load balancer serves any request.
 */
export function createConsoleSessions(store: Store, limits: { sessionSeconds: number; idleSeconds: number }): ConsoleSessions {
  const expiresIn = (s: ConsoleSession, now: number): number => Math.max(1, Math.min(s.createdAt + limits.sessionSeconds, now + limits.idleSeconds) - now)
  const alive = (s: ConsoleSession, now: number): boolean => now < s.createdAt + limits.sessionSeconds && now < s.lastSeenAt + limits.idleSeconds
  return {
    async create(fields, now) {
      const id = randomToken()
      const session: ConsoleSession = { ...fields, csrf: randomToken(), createdAt: now, lastSeenAt: now }
      await store.oidc.upsert(SESSION_MODEL, key(id), { ...session }, expiresIn(session, now))
      return { id, session }
    },
    async get(id, now) {
      if (id.length > 128) return undefined
      const session = (await store.oidc.find(SESSION_MODEL, key(id))) as ConsoleSession | undefined
      return session && alive(session, now) ? session : undefined
    },
    async save(id, session, now) {
      const next = { ...session, lastSeenAt: now }
      await store.oidc.upsert(SESSION_MODEL, key(id), { ...next }, expiresIn(next, now))
    },
    destroy: (id) => store.oidc.destroy(SESSION_MODEL, key(id)),
    async startLogin(login) {
      const id = randomToken()
      await store.oidc.upsert(LOGIN_MODEL, key(id), { ...login }, LOGIN_SECONDS)
      return id
    },
    async takeLogin(id) {
      if (id.length > 128) return undefined
      const login = (await store.oidc.find(LOGIN_MODEL, key(id))) as PendingLogin | undefined
      if (login) await store.oidc.destroy(LOGIN_MODEL, key(id))
      return login
    },
    withRefreshLock: (id, fn) => store.withLock(`console-refresh:${key(id)}`, fn),
  }
}

/** Constant-time comparison of two strings (CSRF tokens, states). */
export function sameSecret(a: string, b: unknown): boolean {
  if (typeof b !== 'string') return false
  const x = Buffer.from(a)
  const y = Buffer.from(b)
  return x.length === y.length && timingSafeEqual(x, y)
}
