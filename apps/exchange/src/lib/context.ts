import type { Logger } from 'pino'
import type { Acl, RateLimit, Store } from '@mqtt-oidc/core'
import type { RevocationNotifier } from './revocation-notifier.js'
import type { SigningKeys } from './signing-keys.js'
import type { KeyUsage } from './key-usage.js'
import type { BrokerCache } from './broker-cache.js'
import type { TrustedIssuer } from './trusted-issuers.js'
import type { ExchangeMetrics } from './create-exchange-metrics.js'

/** What the routes share; built once by createExchange. */
export interface ExchangeContext {
  readonly store: Store
  /** Our IdP's accounts, the client id registry and account cut-offs (often `store` itself). */
  readonly identityStore: Store
  /** Brokers + policies for /token (admin routes invalidate what they change). */
  readonly brokers: BrokerCache
  readonly log: Logger
  readonly notifier: RevocationNotifier
  /** The exchange's issuer URL (known after listen() when not configured). */
  readonly issuer: () => string
  /** The signing keys (loaded at listen()). */
  readonly signingKeys: () => SigningKeys
  /** Per-key expiry of signed tokens (JWKS retention after rotation). */
  readonly keyUsage: KeyUsage
  /** Default lead time of a key rotation, seconds. */
  readonly keyLeadTime: number
  /** Our IdP: a trusted issuer, and the issuer of admin access tokens. */
  readonly idp: TrustedIssuer
  /** Every issuer whose tokens may be exchanged (idp first). */
  readonly issuers: readonly TrustedIssuer[]
  /** A subject token whose `iat` is older than this is refused, seconds. */
  readonly maxSubjectTokenAge: number
  /** Upper bound of an exchanged token's lifetime, seconds. */
  readonly maxLifetime: number
  /** Lifetime of admin-issued credentials when neither the request nor the broker sets one, seconds. */
  readonly defaultCredentialLifetime: number
  /** ACL template of brokers created without one. */
  readonly defaultExchangeAcl: Acl
  /** Exchanges per subject per window (besides a broker policy's); null = none. */
  readonly subjectRateLimit: RateLimit | null
  /** Credentials one admin may issue per window; null = none. */
  readonly adminIssueRateLimit: RateLimit | null
  /** Most live admin-issued credentials per broker; null = no cap. */
  readonly maxLiveAdminCredentials: number | null
  /** Keepalive comment interval of revocation streams, ms. */
  readonly keepaliveMs: number
  /** Current time, epoch seconds. */
  readonly now: () => number
  /** Prometheus metrics (exchanges, verifications, limits, issued credentials). */
  readonly metrics: ExchangeMetrics
  /** The live MQTT sessions broker nodes report. */
  readonly sessions: SessionReporting
}

/** How the exchange takes session reports, and the signal that one changed a broker's sessions. */
export interface SessionReporting {
  /** "Broker X's sessions changed" (the store's watch: any instance's commits), for the admin streams. */
  readonly notifier: RevocationNotifier
  /** How often an idle node reports, seconds; three missed and its sessions are taken for gone. */
  readonly heartbeatSeconds: number
  /** Most reporting nodes per broker. */
  readonly maxNodes: number
  /** Most reported sessions per broker. */
  readonly maxSessions: number
}
