import type { Logger } from 'pino'
import type { JWTVerifyGetKey } from 'jose'
import type { Acl, Store } from '@mqtt-oidc/core'
import type { RevocationNotifier } from './revocation-notifier.js'
import type { SigningKeys } from './signing-keys.js'

/** What the routes share; built once by createExchange. */
export interface ExchangeContext {
  readonly store: Store
  readonly log: Logger
  readonly notifier: RevocationNotifier
  /** The exchange's issuer URL (known after listen() when not configured). */
  readonly issuer: () => string
  /** The signing keys (loaded at listen()). */
  readonly signingKeys: () => SigningKeys
  readonly idp: {
    readonly issuer: string
    readonly clientIds: readonly string[]
    readonly keys: JWTVerifyGetKey
  }
  /** Upper bound of an exchanged token's lifetime, seconds. */
  readonly maxLifetime: number
  /** Lifetime of admin-issued credentials when neither the request nor the broker sets one, seconds. */
  readonly defaultCredentialLifetime: number
  /** ACL template of brokers created without one. */
  readonly defaultExchangeAcl: Acl
  /** Keepalive comment interval of revocation streams, ms. */
  readonly keepaliveMs: number
  /** Current time, epoch seconds. */
  readonly now: () => number
}
